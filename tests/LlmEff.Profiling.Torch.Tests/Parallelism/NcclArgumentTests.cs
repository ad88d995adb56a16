using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace LlmEff.Profiling.Torch.Tests.Parallelism;

/// <summary>The NCCL binding's checks and messages that need neither a GPU nor NCCL; they run in CI.</summary>
[Collection(CudaCollection.Name)]
public sealed class NcclArgumentTests
{
    [TorchFact]
    public void Create_rejects_a_missing_or_empty_device_list_before_loading_nccl()
    {
        Assert.Throws<ArgumentNullException>(() => NcclCommunicator.Create(null!));
        var ex = Assert.Throws<ArgumentException>(() => NcclCommunicator.Create([]));
        Assert.Equal("cudaDevices", ex.ParamName);
        Assert.Contains("at least one CUDA device", ex.Message, StringComparison.Ordinal);
    }

    [TorchFact]
    public void Create_rejects_repeated_devices_naming_the_device_and_both_ranks()
    {
        var ex = Assert.Throws<ArgumentException>(() => NcclCommunicator.Create([0, 1, 0]));
        Assert.Equal("cudaDevices", ex.ParamName);
        Assert.Contains("CUDA device 0 is listed twice (rank 0 and rank 2)", ex.Message, StringComparison.Ordinal);
    }

    [TorchFact]
    public void Create_rejects_negative_device_indices()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => NcclCommunicator.Create([0, -3]));
        Assert.Equal("cudaDevices", ex.ParamName);
        Assert.Contains("Rank 1's CUDA device index is -3", ex.Message, StringComparison.Ordinal);
    }

    [TorchFact]
    public void Create_without_any_cuda_device_says_so_instead_of_calling_nccl()
    {
        if (cuda.is_available())
        {
            Assert.Skip("CUDA is available here; this checks the message on machines without a GPU.");
        }

        var ex = Assert.Throws<InvalidOperationException>(() => NcclCommunicator.Create([0]));
        Assert.IsNotType<NcclUnavailableException>(ex);
        Assert.Contains("No CUDA device is visible", ex.Message, StringComparison.Ordinal);
    }

    [TorchFact]
    public void A_missing_libnccl_gives_a_message_that_says_how_to_install_it()
    {
        if (NativeLibrary.TryLoad("libnccl.so.2", out var handle))
        {
            NativeLibrary.Free(handle);
            Assert.Skip("libnccl.so.2 is installed here; this checks the message where it is not.");
        }

        Assert.False(NcclCommunicator.IsAvailable);
        var ex = Assert.Throws<NcclUnavailableException>(() => NcclCommunicator.Version);
        Assert.IsType<DllNotFoundException>(ex.InnerException);
        Assert.Contains("libnccl.so.2", ex.Message, StringComparison.Ordinal);
        Assert.Contains("LD_LIBRARY_PATH", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Install NCCL", ex.Message, StringComparison.Ordinal);
    }

    [TorchFact]
    public void SumInPlace_checks_reject_a_wrong_tensor_count()
    {
        using var a = zeros(4);
        var ex = Assert.Throws<ArgumentException>(() => NcclTensors.Validate([0, 1], [a]));
        Assert.Equal("perRank", ex.ParamName);
        Assert.Contains("Expected one tensor per rank (2), got 1", ex.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentNullException>(() => NcclTensors.Validate([0], null!));
    }

    [TorchFact]
    public void SumInPlace_checks_reject_cpu_tensors_and_say_which_device_they_belong_on()
    {
        using var a = zeros(4);
        using var b = zeros(4);
        var ex = Assert.Throws<ArgumentException>(() => NcclTensors.Validate([2, 5], [a, b]));
        Assert.Contains("perRank[0] is on cpu", ex.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("cuda:2", ex.Message, StringComparison.Ordinal);
    }

    [TorchFact]
    public void SumInPlace_checks_reject_null_tensors()
    {
        var ex = Assert.Throws<ArgumentException>(() => NcclTensors.Validate([0], [null!]));
        Assert.Contains("perRank[0] is null", ex.Message, StringComparison.Ordinal);
    }

    [TorchTheory]
    [InlineData(ScalarType.BFloat16, 9, 1)] // ncclBfloat16
    [InlineData(ScalarType.Float16, 6, 1)] // ncclFloat16
    [InlineData(ScalarType.Float32, 7, 1)] // ncclFloat32
    [InlineData(ScalarType.Float64, 8, 1)] // ncclFloat64
    [InlineData(ScalarType.Int8, 0, 1)] // ncclInt8
    [InlineData(ScalarType.Byte, 1, 1)] // ncclUint8
    [InlineData(ScalarType.Int32, 2, 1)] // ncclInt32
    [InlineData(ScalarType.Int64, 4, 1)] // ncclInt64
    [InlineData(ScalarType.ComplexFloat32, 7, 2)] // ncclFloat32
    [InlineData(ScalarType.ComplexFloat64, 8, 2)] // ncclFloat64
    public void Torch_dtypes_map_to_ncclDataType_t_values_of_nccl_h(ScalarType dtype, int expectedCode, int perValue)
    {
        // nccl.h: ncclInt8 0, ncclUint8 1, ncclInt32 2, ncclUint32 3, ncclInt64 4, ncclUint64 5, ncclFloat16 6,
        // ncclFloat32 7, ncclFloat64 8, ncclBfloat16 9.
        Assert.Equal(expectedCode, (int)NcclTensors.DataType(dtype).Type);
        Assert.Equal(perValue, NcclTensors.DataType(dtype).ElementsPerValue);
    }

    [TorchTheory]
    [InlineData(ScalarType.Int16)]
    [InlineData(ScalarType.Bool)]
    public void Dtypes_nccl_cannot_sum_are_rejected_with_the_supported_list(ScalarType dtype)
    {
        var ex = Assert.Throws<ArgumentException>(() => NcclTensors.DataType(dtype));
        Assert.Contains($"dtype {dtype} has no NCCL sum", ex.Message, StringComparison.Ordinal);
        Assert.Contains("BFloat16", ex.Message, StringComparison.Ordinal);
    }

    [TorchFact]
    public void Data_pointers_come_from_libtorch_and_include_a_views_storage_offset()
    {
        // The pointer NCCL gets is read back through plain memory reads on a CPU tensor: element 7 of arange is 7.
        using var whole = arange(0, 24, dtype: ScalarType.Int32).reshape(4, 6);
        using var rows = whole.narrow(0, 1, 2);
        var basePointer = NcclTensors.DataPointer(whole);
        Assert.Equal(0, Marshal.ReadInt32(basePointer));
        Assert.Equal(7, Marshal.ReadInt32(basePointer, 7 * sizeof(int)));
        Assert.Equal(6, Marshal.ReadInt32(NcclTensors.DataPointer(rows)));
        Assert.Equal(6 * sizeof(int), NcclTensors.DataPointer(rows) - basePointer);
    }

    [TorchTheory]
    [InlineData(22803, 2, 28, 3)] // NCCL_VERSION(2,28,3) = 2·10000 + 28·100 + 3 (nccl.h, NCCL >= 2.9)
    [InlineData(21903, 2, 19, 3)]
    [InlineData(2708, 2, 7, 8)] // NCCL_VERSION(2,7,8) = 2·1000 + 7·100 + 8 (older encoding)
    public void Version_codes_are_decoded_as_nccl_h_encodes_them(int code, int major, int minor, int patch)
    {
        Assert.Equal(new Version(major, minor, patch), NcclCommunicator.ParseVersion(code));
    }

    [TorchFact]
    public void Nccl_errors_carry_nccls_own_text_and_the_code()
    {
        var ex = new NcclException("ncclAllReduce", NcclResult.InvalidArgument, "invalid argument (run with NCCL_DEBUG=WARN for details)", "Invalid config blocking attribute value -1");
        Assert.Equal(NcclResult.InvalidArgument, ex.Result);
        Assert.Contains("ncclAllReduce failed with InvalidArgument (4)", ex.Message, StringComparison.Ordinal);
        Assert.Contains("invalid argument (run with NCCL_DEBUG=WARN", ex.Message, StringComparison.Ordinal);
        Assert.Contains("NCCL says: Invalid config blocking attribute value -1", ex.Message, StringComparison.Ordinal);
    }
}
