using LlmEff.Core.Architecture;
using LlmEff.Core.Hardware;

namespace LlmEff.Profiling.Torch.Tests.Parallelism;

/// <summary>The default layout must be one whose shards can be built.</summary>
public class LayoutDivisibilityTests
{
    [Fact]
    public void The_default_layout_of_YaLM_on_A100_40GB_is_a_degree_its_shards_can_be_built_at()
    {
        var yalm = ArchitectureCatalog.Get("Yandex/YaLM");
        var profiler = new ParallelProfiler(new TorchProfilerOptions(), new ParallelProfileOptions { Accelerator = Accelerators.A100_40GB });

        // Core's minimum-accelerator plan checks heads and key/value heads only; it gives 8 x 1 for YaLM here.
        var (n, stages) = profiler.Layout(yalm, ProfilingPlan.Paper);

        // ModelShard also needs the FFN width (27,308) divisible by N, so 8 would be refused ("valid degrees are 1, 2, 4"):
        // the largest valid degree, with the pipeline stages raised until a shard fits the 40 GB.
        Assert.Equal(4, n);
        Assert.Contains(n, ModelShard.ValidTensorParallelDegrees(yalm));
        _ = new ModelShard { TensorParallelDegree = n, PipelineStages = stages }.Resolve(yalm);
        var shardBytes = GpuMemoryRequirement.Estimate(yalm, new ModelShard { TensorParallelDegree = n, PipelineStages = stages }.Resolve(yalm), ModelPrecision.BFloat16, ProfilingPlan.Paper.CapacityTokens, ProfilingPlan.Paper.MaxPromptTokens).TotalBytes;
        Assert.True(shardBytes <= Accelerators.A100_40GB.MemoryBytes, $"{n} x {stages}: a shard needs {shardBytes / 1e9:F1} GB");
    }
}
