using LlmEff.Core.Architecture;

namespace LlmEff.Profiling.Torch.Tests.Profiling;

public sealed class GpuMemoryRequirementTests
{
    private static readonly TransformerArchitecture Llama3_70B = new("meta-llama/Meta-Llama-3-70B", 8192, 80, 64, 128256, 8192)
    {
        KeyValueHeads = 8,
        FfnHiddenSize = 28672,
        Ffn = FfnKind.Gated,
        Norm = NormKind.RmsNorm,
        Positions = PositionalScheme.Rotary,
        LinearBiases = false,
    };

    [Fact]
    public void Weights_and_kv_cache_follow_core_counts()
    {
        var need = GpuMemoryRequirement.Estimate(Llama3_70B, ModelPrecision.BFloat16, 1599, 1536);
        Assert.Equal(Llama3_70B.ParameterCount * 2, need.WeightBytes);
        // 80 layers x (64 query + 2 x 8 KV heads) x 128 dims x 1599 tokens x 2 bytes: keys and values plus the query slot.
        Assert.Equal(80L * (64 + (2 * 8)) * 128 * 1599 * 2, need.KvCacheBytes);
        Assert.True(need.WorkspaceBytes > GpuMemoryRequirement.FixedOverheadBytes);
    }

    [Fact]
    public void A_70B_model_does_not_fit_one_80GB_gpu_and_the_message_says_how_many_would()
    {
        var need = GpuMemoryRequirement.Estimate(Llama3_70B, ModelPrecision.BFloat16, 1599, 1536);
        const long h100 = 80L * 1000 * 1000 * 1000; // an H100 80GB's 80e9 bytes
        var ex = Assert.Throws<InsufficientGpuMemoryException>(() => need.EnsureFits(h100 - (2L << 30), Llama3_70B.Name, h100));
        // ~141 GB of weights + KV + workspace over ~79 GB usable per GPU: 2 GPUs.
        Assert.Equal(2, ex.GpusNeeded);
        Assert.Contains("meta-llama/Meta-Llama-3-70B needs 13", ex.Message, StringComparison.Ordinal);
        Assert.Contains("72.5 GiB free", ex.Message, StringComparison.Ordinal);
        Assert.Contains("2 such GPUs", ex.Message, StringComparison.Ordinal);
        need.EnsureFits(200L << 30, Llama3_70B.Name);
    }

    [Fact]
    public void A_batched_plan_is_checked_for_what_the_batched_decoder_will_check()
    {
        // Checked before the build with the decoder's own workspace, so a batch let through is not refused after it.
        var arch = LlmEff.Core.Architecture.ArchitectureCatalog.Get("meta-llama/Meta-Llama-3-8B");
        var plan = ProfilingPlan.Paper with { BatchSizes = [1, 64] };
        var profiler = new TorchProfiler(new TorchProfilerOptions()).MemoryRequirement(arch, plan);
        var decoder = GpuMemoryRequirement.EstimateBatched(arch, ModelShard.Full.Resolve(arch), ModelPrecision.BFloat16, plan.CapacityTokens, plan.CapacityTokens, 64);
        Assert.Equal(decoder.TotalBytes, profiler.TotalBytes);
    }

    [Fact]
    public void A_single_query_plan_counts_the_prefill_graphs_of_its_short_prompts()
    {
        // The paper's plan replays P = 1, 256 and 512 as prefill graphs (default limit 512), each keeping its activations.
        var arch = LlmEff.Core.Architecture.ArchitectureCatalog.Get("meta-llama/Meta-Llama-3-8B");
        var plan = ProfilingPlan.Paper;
        var graphs = new TorchProfiler(new TorchProfilerOptions()).MemoryRequirement(arch, plan);
        var interpreted = new TorchProfiler(new TorchProfilerOptions { PrefillGraphMaxTokens = 0 }).MemoryRequirement(arch, plan);
        var noGraphs = new TorchProfiler(new TorchProfilerOptions { CudaGraphs = CudaGraphMode.Off }).MemoryRequirement(arch, plan);
        var one = GpuMemoryRequirement.Estimate(arch, ModelPrecision.BFloat16, 1, 1).WorkspaceBytes - GpuMemoryRequirement.FixedOverheadBytes;
        var p256 = GpuMemoryRequirement.Estimate(arch, ModelPrecision.BFloat16, 256, 256).WorkspaceBytes - GpuMemoryRequirement.FixedOverheadBytes;
        var p512 = GpuMemoryRequirement.Estimate(arch, ModelPrecision.BFloat16, 512, 512).WorkspaceBytes - GpuMemoryRequirement.FixedOverheadBytes;

        Assert.Equal(interpreted.WorkspaceBytes + one + p256 + p512, graphs.WorkspaceBytes);
        Assert.Equal(interpreted.TotalBytes, noGraphs.TotalBytes);
        Assert.Equal(interpreted.WeightBytes + interpreted.KvCacheBytes, graphs.WeightBytes + graphs.KvCacheBytes);
    }
}
