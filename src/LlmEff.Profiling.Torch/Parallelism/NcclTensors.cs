using System.Runtime.InteropServices;
using TorchSharp;

namespace LlmEff.Profiling.Torch;

/// <summary>
/// What <see cref="NcclCommunicator"/> checks and derives from the ranks' tensors before handing their memory to NCCL:
/// placement, layout, matching shapes, the NCCL element type and the tensors' device pointers. Needs no NCCL, so it is
/// tested on the CPU.
/// </summary>
internal static partial class NcclTensors
{
    /// <summary>The dtypes NCCL can sum, as named in messages.</summary>
    public const string Supported = "BFloat16, Float16, Float32, Float64, Int8, Byte, Int32, Int64, ComplexFloat32, ComplexFloat64";

    /// <summary>
    /// Checks one contiguous CUDA tensor per rank, each on its rank's device, all of rank 0's shape and dtype, and returns
    /// the NCCL element type and element count of one rank's buffer.
    /// </summary>
    public static (NcclDataType DataType, ulong Count) Validate(IReadOnlyList<int> devices, IReadOnlyList<torch.Tensor> perRank)
    {
        ArgumentNullException.ThrowIfNull(perRank);
        if (perRank.Count != devices.Count)
        {
            throw new ArgumentException($"Expected one tensor per rank ({devices.Count}), got {perRank.Count}; pass the ranks' tensors in rank order.", nameof(perRank));
        }

        var first = perRank[0] ?? throw new ArgumentException("perRank[0] is null; pass one tensor per rank.", nameof(perRank));
        for (var r = 0; r < perRank.Count; r++)
        {
            var t = perRank[r] ?? throw new ArgumentException($"perRank[{r}] is null; pass one tensor per rank.", nameof(perRank));
            if (t.device_type != DeviceType.CUDA)
            {
                throw new ArgumentException($"perRank[{r}] is on {t.device}; NCCL sums CUDA tensors: put rank {r}'s tensor on cuda:{devices[r]}.", nameof(perRank));
            }

            if (t.device_index != devices[r])
            {
                throw new ArgumentException($"perRank[{r}] is on cuda:{t.device_index} but rank {r}'s device is cuda:{devices[r]}; pass the tensors in rank order, each on its rank's device.", nameof(perRank));
            }

            if (!t.is_contiguous())
            {
                throw new ArgumentException($"perRank[{r}] ({Describe(t)}) is not contiguous; the sum is written into the tensor's memory, so pass contiguous tensors (allocate them so, or copy into a contiguous buffer and back).", nameof(perRank));
            }

            // Rank 0 is the reference; skipping it keeps a one-rank call to the few native calls it needs.
            if (r > 0 && (t.dtype != first.dtype || !t.shape.SequenceEqual(first.shape)))
            {
                throw new ArgumentException($"Rank {r}'s tensor is {Describe(t)} but rank 0's is {Describe(first)}; every rank must pass the same shape and dtype.", nameof(perRank));
            }
        }

        var (type, perElement) = DataType(first.dtype);
        return (type, (ulong)first.numel() * (ulong)perElement);
    }

    /// <summary>
    /// The NCCL element type for a torch dtype and how many NCCL elements one tensor element is (2 for complex numbers:
    /// their sum is the sum of real and imaginary parts).
    /// </summary>
    public static (NcclDataType Type, int ElementsPerValue) DataType(torch.ScalarType dtype) => dtype switch
    {
        torch.ScalarType.BFloat16 => (NcclDataType.BFloat16, 1),
        torch.ScalarType.Float16 => (NcclDataType.Float16, 1),
        torch.ScalarType.Float32 => (NcclDataType.Float32, 1),
        torch.ScalarType.Float64 => (NcclDataType.Float64, 1),
        torch.ScalarType.Int8 => (NcclDataType.Int8, 1),
        torch.ScalarType.Byte => (NcclDataType.Uint8, 1),
        torch.ScalarType.Int32 => (NcclDataType.Int32, 1),
        torch.ScalarType.Int64 => (NcclDataType.Int64, 1),
        torch.ScalarType.ComplexFloat32 => (NcclDataType.Float32, 2),
        torch.ScalarType.ComplexFloat64 => (NcclDataType.Float64, 2),
        _ => throw new ArgumentException(
            $"dtype {dtype} has no NCCL sum; supported: {Supported}. Convert the tensors first (e.g. Int16 or Bool to Int32 with .to(ScalarType.Int32)).",
            nameof(dtype)),
    };

    /// <summary>Address of the tensor's first element on its device (storage offset included, as torch's data_ptr()).</summary>
    public static IntPtr DataPointer(torch.Tensor tensor)
    {
        // TorchSharp 0.107 has no public data_ptr(); LibTorchSharp exports the native one.
        var pointer = THSTensor_data(tensor.Handle);
        if (pointer == IntPtr.Zero && tensor.numel() > 0)
        {
            throw new InvalidOperationException($"libtorch returned no data pointer for a {Describe(tensor)} tensor on {tensor.device}.");
        }

        return pointer;
    }

    private static string Describe(torch.Tensor t) => $"{t.dtype}[{string.Join(", ", t.shape)}]";

    [LibraryImport("LibTorchSharp")]
    private static partial IntPtr THSTensor_data(IntPtr tensor);
}
