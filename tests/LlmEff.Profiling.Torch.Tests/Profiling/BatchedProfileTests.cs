using LlmEff.Core;
using LlmEff.Core.Batching;
using LlmEff.Core.Serialization;

namespace LlmEff.Profiling.Torch.Tests.Profiling;

public sealed class BatchedProfileTests : IDisposable
{
    private static readonly TorchProfilerOptions Cpu = new()
    {
        Device = "cpu",
        Model = new DecoderOptions { Precision = ModelPrecision.Float32, Seed = 3 },
    };

    // CPU timings of a tiny model are noise: the test checks the files, batch sizes and resume, so the fit keeps what it gets.
    private static readonly RuntimeFitOptions Lenient = new() { RSquaredWarningThreshold = 0, KeepNonPhysicalFit = true };

    private readonly string _dir = Directory.CreateTempSubdirectory("llmeff-batched-").FullName;

    private ProfileFolderOptions Options(params int[] batchSizes) => new()
    {
        Architecture = TinyArchitectures.Llama,
        OutputDirectory = _dir,
        Plan = new ProfilingPlan { PromptTokens = [2, 8], OutputTokens = [1, 3], Trials = 1, WarmupRuns = 0, BatchSizes = batchSizes },
        Profiler = Cpu,
        FitOptions = Lenient,
    };

    [TorchFact]
    public async Task A_batched_plan_writes_samples_with_b_and_both_models_then_resumes()
    {
        var result = await TorchProfiler.ProfileToFolderAsync(Options(1, 2, 4), cancellationToken: TestContext.Current.CancellationToken);

        var samples = ProfilingSampleCsv.ReadFile(result.SamplesPaths[0]);
        Assert.Equal(12, samples.Count);
        Assert.Equal([1, 2, 4], samples.Select(s => s.BatchSize!.Value).Distinct().Order());
        Assert.Equal(Path.Combine(_dir, "tiny-llama-batched-runtime-model.json"), result.BatchedModelPath);
        var batched = BatchedRuntimeModel.Load(result.BatchedModelPath!);
        Assert.Equal([1, 2, 4], batched.ProfiledBatchSizes);
        Assert.Equal("tiny-llama", batched.Metadata.ModelName);
        Assert.NotNull(batched.LeaveOneBatchSizeOutError);
        Assert.Equal("batch size 1", RuntimeModelJson.Load(result.ModelPath).Metadata.Notes);

        var lines = File.ReadAllLines(result.SamplesPaths[0]);
        var again = await TorchProfiler.ProfileToFolderAsync(Options(1, 2, 4), cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(12, again.ResumedSamples);
        Assert.Equal(lines, File.ReadAllLines(result.SamplesPaths[0]));
    }

    [TorchFact]
    public void Batched_plans_without_batch_one_or_with_an_emulated_layout_are_refused()
    {
        var noOne = Assert.Throws<ArgumentException>(() => Options(2, 4).Validate());
        Assert.Contains("include 1", noOne.Message, StringComparison.Ordinal);
        // Thrown by the call itself, before any task starts.
        var parallel = Assert.Throws<ArgumentException>(() => { _ = TorchProfiler.ProfileToFolderAsync(Options(1, 2) with { Parallel = new ParallelProfileOptions { TensorParallelDegree = 2 } }); });
        Assert.Contains("TorchProfilerOptions.Shard", parallel.Message, StringComparison.Ordinal);
        var bad = Assert.Throws<ArgumentOutOfRangeException>(() => new ProfilingPlan { BatchSizes = [1, 0] }.Validate());
        Assert.Equal("BatchSizes", bad.ParamName);
        Assert.Equal(4, new ProfilingPlan { PromptTokens = [1], OutputTokens = [1, 2], Trials = 1, BatchSizes = [1, 3] }.TotalQueries);
    }

    [TorchFact]
    public void Mixtures_of_experts_and_sliding_windows_are_refused_at_batch_sizes_above_one_before_building()
    {
        var plan = new ProfilingPlan { PromptTokens = [2, 8], OutputTokens = [1, 3], Trials = 1, WarmupRuns = 0, BatchSizes = [1, 2] };
        var moe = TinyArchitectures.Llama with { Name = "tiny-moe", Experts = 4, ExpertsPerToken = 2 };
        var ex = Assert.Throws<NotSupportedException>(() => new TorchProfiler(Cpu).Run(moe, plan));
        Assert.Contains("mixture of experts", ex.Message, StringComparison.Ordinal);
        Assert.Contains("--batch-sizes", ex.Message, StringComparison.Ordinal);
        var window = TinyArchitectures.Llama with { Name = "tiny-window", SlidingWindowTokens = 4 };
        Assert.Contains("sliding-window", Assert.Throws<NotSupportedException>(() => new TorchProfiler(Cpu).Run(window, plan)).Message, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
