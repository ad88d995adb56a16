using LlmEff.Core;
using LlmEff.Core.Serialization;

namespace LlmEff.Profiling.Torch.Tests.Profiling;

/// <summary>
/// ProfileToFolderAsync documents that invalid options, a layout that does not fit, and a samples file of
/// another model or precision throw "before the task starts": for emulated layouts and the profiler's own options too.
/// </summary>
public sealed class ParallelUpFrontChecksTests : IDisposable
{
    private static readonly TorchProfilerOptions Cpu = TinyFolderRun.Cpu;

    private static readonly ProfilingPlan Plan = TinyFolderRun.Plan;

    private readonly string _dir = Directory.CreateTempSubdirectory("llmeff-upfront-").FullName;

    private ProfileFolderOptions Options => TinyFolderRun.In(Path.Combine(_dir, "out"));

    [TorchFact]
    public void A_tensor_parallel_degree_that_does_not_divide_the_heads_is_refused_before_the_task_starts()
    {
        // tiny-gpt has 4 heads: 3-way tensor parallelism does not fit.
        var options = Options with { Parallel = new ParallelProfileOptions { TensorParallelDegree = 3, PipelineStages = 1 } };

        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => { _ = TorchProfiler.ProfileToFolderAsync(options, cancellationToken: TestContext.Current.CancellationToken); });
        Assert.Equal("TensorParallelDegree", ex.ParamName);
        Assert.Contains("valid degrees are 1, 2, 4", ex.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(options.OutputDirectory));
    }

    [TorchFact]
    public void More_pipeline_stages_than_layers_are_refused_before_the_task_starts()
    {
        var options = Options with { Parallel = new ParallelProfileOptions { TensorParallelDegree = 1, PipelineStages = 3 } };

        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => { _ = TorchProfiler.ProfileToFolderAsync(options, cancellationToken: TestContext.Current.CancellationToken); });
        Assert.Equal("PipelineStages", ex.ParamName);
        Assert.False(Directory.Exists(options.OutputDirectory));
    }

    [TorchFact]
    public void A_stage_samples_file_of_another_precision_is_refused_before_the_task_starts()
    {
        var options = Options with { Parallel = new ParallelProfileOptions { TensorParallelDegree = 2, PipelineStages = 1 } };
        Directory.CreateDirectory(options.OutputDirectory);
        var stage0 = Path.Combine(options.OutputDirectory, ProfileFiles.StageSamplesFileName(TinyArchitectures.Gpt, 2, 1, 0));
        ProfilingSampleCsv.WriteFile(stage0, [new ProfilingSample(1, 1, 0.01) { Trial = 0, Source = "torchsharp:tiny-gpt:bf16:tp2r0:pp1s0" }]);

        var ex = Assert.Throws<InvalidOperationException>(() => { _ = TorchProfiler.ProfileToFolderAsync(options, cancellationToken: TestContext.Current.CancellationToken); });
        Assert.Contains("torchsharp:tiny-gpt:fp32:tp2r0:pp1s0", ex.Message, StringComparison.Ordinal);
    }

    [TorchFact]
    public void A_negative_idle_time_is_refused_before_the_task_starts_and_creates_no_folder()
    {
        var options = Options with { Profiler = Cpu with { IdleBeforeEachQuery = TimeSpan.FromSeconds(-1) } };

        var ex = Assert.ThrowsAny<ArgumentException>(() => { _ = TorchProfiler.ProfileToFolderAsync(options, cancellationToken: TestContext.Current.CancellationToken); });
        Assert.Equal("Profiler", ex.ParamName);
        Assert.Contains("IdleBeforeEachQuery", ex.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(options.OutputDirectory));
    }

    [TorchFact]
    public void A_negative_prefill_graph_limit_is_refused_before_the_task_starts()
    {
        var options = Options with { Profiler = Cpu with { PrefillGraphMaxTokens = -1 } };

        var ex = Assert.ThrowsAny<ArgumentException>(() => { _ = TorchProfiler.ProfileToFolderAsync(options, cancellationToken: TestContext.Current.CancellationToken); });
        Assert.Equal("Profiler", ex.ParamName);
        Assert.Contains("PrefillGraphMaxTokens", ex.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(options.OutputDirectory));
    }

    [TorchFact]
    public async Task A_negative_activation_size_is_refused_before_any_point_is_measured()
    {
        // Wide enough, with long enough outputs, that the shard's fit is positive on a CPU (as ProfileToFolderTests' layout test).
        var architecture = TinyArchitectures.Llama with { HiddenSize = 512, FfnHiddenSize = 2048 };
        var options = Options with
        {
            Architecture = architecture,
            Plan = new ProfilingPlan { PromptTokens = [1, 8], OutputTokens = [1, 8, 16], Trials = 2, WarmupRuns = 1 },
            Parallel = new ParallelProfileOptions { TensorParallelDegree = 2, PipelineStages = 1, ActivationBytes = -2 },
        };

        // The collectives' model reads the activation size only once the stages are timed: refused before that.
        var ex = await Record.ExceptionAsync(async () => await TorchProfiler.ProfileToFolderAsync(options, cancellationToken: TestContext.Current.CancellationToken));
        Assert.NotNull(ex);
        var stage0 = Path.Combine(options.OutputDirectory, ProfileFiles.StageSamplesFileName(architecture, 2, 1, 0));
        Assert.IsType<ArgumentOutOfRangeException>(ex);
        Assert.Contains("ActivationBytes", ex.Message, StringComparison.Ordinal);
        if (File.Exists(stage0))
        {
            // The message reads the file only when it is there (an interpolated message is built before Assert.False runs).
            Assert.Fail($"{ex.GetType().Name} came only after {ProfilingSampleCsv.ReadFile(stage0).Count} points were measured: {ex.Message}");
        }
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
