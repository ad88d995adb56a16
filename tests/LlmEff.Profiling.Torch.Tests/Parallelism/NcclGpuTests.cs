using TorchSharp;
using static TorchSharp.torch;

namespace LlmEff.Profiling.Torch.Tests.Parallelism;

/// <summary>
/// The NCCL binding on real GPUs (run on the GPU machine, see docs/gpu-profiling.md); skipped without CUDA or NCCL.
/// One GPU exercises a one-rank communicator; with two or more visible GPUs every test also runs across all of them.
/// </summary>
[Collection(CudaCollection.Name)]
public sealed class NcclGpuTests
{
    private static void RequireCudaAndNccl()
    {
        if (!cuda.is_available())
        {
            Assert.Skip("CUDA is not available on this machine.");
        }

        if (!NcclCommunicator.IsAvailable)
        {
            Assert.Skip("libnccl.so.2 cannot be loaded here (set LD_LIBRARY_PATH to NCCL's lib folder).");
        }
    }

    private static int[] AllDevices() => Enumerable.Range(0, cuda.device_count()).ToArray();

    [TorchFact]
    public void Version_is_nccl_2_or_newer()
    {
        RequireCudaAndNccl();
        Assert.True(NcclCommunicator.Version.Major >= 2, $"NCCL {NcclCommunicator.Version}");
    }

    [TorchTheory]
    [InlineData(ScalarType.BFloat16)]
    [InlineData(ScalarType.Float32)]
    public void A_one_rank_sum_leaves_the_tensor_as_it_was(ScalarType dtype)
    {
        RequireCudaAndNccl();
        using var comm = NcclCommunicator.Create([0]);
        Assert.Equal(1, comm.Ranks);
        Assert.Equal(new[] { 0 }, comm.Devices);
        using var t = randn([3, 4096], generator: new Generator(7)).to(dtype).cuda();
        using var before = t.cpu().to(ScalarType.Float32);
        comm.SumInPlace([t]);
        using var after = t.cpu().to(ScalarType.Float32);
        Assert.Equal(before.data<float>().ToArray(), after.data<float>().ToArray());
    }

    [TorchFact]
    public void A_one_rank_sum_works_on_a_view_with_a_storage_offset_and_is_ordered_after_torch_ops()
    {
        RequireCudaAndNccl();
        using var comm = NcclCommunicator.Create([0]);
        using var whole = zeros([8, 1024], ScalarType.BFloat16, CUDA);
        using var rows = whole.narrow(0, 3, 2);
        rows.fill_(1.5);
        comm.SumInPlace([rows]);
        rows.add_(1);
        using var host = whole.cpu().to(ScalarType.Float32);
        Assert.Equal(2.5f * 2 * 1024, host.sum().item<float>());
        Assert.Equal(0f, host.narrow(0, 0, 3).abs().sum().item<float>());
    }

    [TorchFact]
    public void Sum_over_all_visible_gpus_matches_the_host_sum()
    {
        RequireCudaAndNccl();
        var devices = AllDevices();
        if (devices.Length < 2)
        {
            Assert.Skip($"Needs two or more GPUs; {devices.Length} visible.");
        }

        using var comm = NcclCommunicator.Create(devices);
        Assert.Equal(devices.Length, comm.Ranks);
        foreach (var dtype in new[] { ScalarType.Float32, ScalarType.BFloat16 })
        {
            // Small integers (|x| <= 8 per rank) are exact in bf16 and fp32 and so is their sum over up to 16 ranks.
            var perRank = devices.Select((d, r) => randint(-8, 9, [5, 777], generator: new Generator(100UL + (ulong)r)).to(dtype).to(torch.device(DeviceType.CUDA, d))).ToList();
            using var expected = perRank.Select(t => t.cpu().to(ScalarType.Float32)).Aggregate((a, b) => a + b);
            comm.SumInPlace(perRank);
            foreach (var t in perRank)
            {
                using var got = t.cpu().to(ScalarType.Float32);
                // TorchSharp's equal is elementwise; allclose with zero tolerances is the exact whole-tensor comparison.
                Assert.True(got.allclose(expected, 0, 0), $"rank on {t.device} ({dtype}) differs from the host sum");
                t.Dispose();
            }
        }
    }

    [TorchFact]
    public void Tensors_on_the_wrong_gpu_or_not_contiguous_are_rejected_before_nccl_runs()
    {
        RequireCudaAndNccl();
        var devices = AllDevices();
        using var comm = NcclCommunicator.Create(devices);
        using var square = zeros([64, 64], device: CUDA);
        var transposed = Enumerable.Range(0, devices.Length).Select(r => square.t()).ToList();
        var ex = Assert.Throws<ArgumentException>(() => NcclTensors.Validate(devices, transposed));
        Assert.Contains("not contiguous", ex.Message, StringComparison.Ordinal);
        if (devices.Length >= 2)
        {
            var allOnZero = devices.Select(_ => zeros([4], device: CUDA)).ToList();
            ex = Assert.Throws<ArgumentException>(() => comm.SumInPlace(allOnZero));
            allOnZero.ForEach(t => t.Dispose());
            Assert.Contains("perRank[1] is on cuda:0 but rank 1's device is cuda:1", ex.Message, StringComparison.Ordinal);
            var mixed = devices.Select((d, r) => zeros([r == 1 ? 5 : 4], device: torch.device(DeviceType.CUDA, d))).ToList();
            ex = Assert.Throws<ArgumentException>(() => comm.SumInPlace(mixed));
            mixed.ForEach(t => t.Dispose());
            Assert.Contains("Rank 1's tensor is Float32[5] but rank 0's is Float32[4]", ex.Message, StringComparison.Ordinal);
        }
    }

    [TorchFact]
    public void Dispose_is_idempotent_and_a_disposed_communicator_refuses_work()
    {
        RequireCudaAndNccl();
        var comm = NcclCommunicator.Create([0]);
        comm.Dispose();
        comm.Dispose();
        using var t = ones([4], device: CUDA);
        Assert.Throws<ObjectDisposedException>(() => comm.SumInPlace([t]));
    }
}
