using LlmEff.Core;
using LlmEff.Core.Batching;
using LlmEff.Core.Parallelism;
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
        Assert.StartsWith("batch size 1; random weights; ", RuntimeModelJson.Load(result.ModelPath).Metadata.Notes, StringComparison.Ordinal);
        Assert.StartsWith("random weights; ", batched.Metadata.Notes, StringComparison.Ordinal);
        Assert.Equal(RuntimeMetric.Idealized, batched.Metadata.Metric);
        Assert.NotNull(batched.Metadata.MeasuredUtc);

        var lines = File.ReadAllLines(result.SamplesPaths[0]);
        var again = await TorchProfiler.ProfileToFolderAsync(Options(1, 2, 4), cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(12, again.ResumedSamples);
        Assert.Equal(lines, File.ReadAllLines(result.SamplesPaths[0]));
    }

    [TorchFact]
    public async Task An_emulated_tensor_parallel_layout_profiles_its_shard_in_batches_and_adds_each_batchs_collectives()
    {
        // Longer outputs and a warm-up than the other tests: the composition refuses a shard whose fitted g comes out negative.
        var options = Options(1, 2, 4) with
        {
            Plan = new ProfilingPlan { PromptTokens = [2, 8], OutputTokens = [1, 8, 16], Trials = 2, WarmupRuns = 1, BatchSizes = [1, 2, 4] },
            Parallel = new ParallelProfileOptions { TensorParallelDegree = 2, PipelineStages = 1 },
        };
        var result = await TorchProfiler.ProfileToFolderAsync(options, cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(Path.Combine(_dir, "tiny-llama-tp2-pp1-batched-runtime-model.json"), result.BatchedModelPath);
        var parallel = result.Parallel!;
        var shard = parallel.BatchedShardModel!;
        var whole = BatchedRuntimeModel.Load(result.BatchedModelPath!);
        Assert.Equal([1, 2, 4], whole.ProfiledBatchSizes);
        Assert.True(whole.Metadata.Emulated);
        Assert.Equal(2, whole.Metadata.AcceleratorCount);
        var collectives = new TensorParallelCollectives(TinyArchitectures.Llama, TinyArchitectures.Llama.Layers, 2, parallel.TensorParallelLink);
        for (var i = 0; i < 3; i++)
        {
            var b = whole.ProfiledBatchSizes[i];
            Assert.Equal(shard.BatchModels[i].PerOutputTokenSeconds + collectives.ForwardSeconds(b, b), whole.BatchModels[i].PerOutputTokenSeconds, 1e-12);
        }

        // The batch-1 runtime model of the folder is the whole model's batch-1 member, collectives included.
        Assert.Equal(whole.BatchModels[0].PerOutputTokenSeconds, result.Model.PerOutputTokenSeconds, 1e-12);
        Assert.Equal([1, 2, 4], ProfilingSampleCsv.ReadFile(result.SamplesPaths[0]).Select(s => s.BatchSize!.Value).Distinct().Order());
    }

    [TorchFact]
    public void Batched_plans_without_batch_one_pipelined_or_real_are_refused()
    {
        var noOne = Assert.Throws<ArgumentException>(() => Options(2, 4).Validate());
        Assert.Contains("include 1", noOne.Message, StringComparison.Ordinal);
        // Thrown by the call itself, before any task starts.
        var pipeline = Assert.Throws<ArgumentException>(() => { _ = TorchProfiler.ProfileToFolderAsync(Options(1, 2) with { Parallel = new ParallelProfileOptions { TensorParallelDegree = 1, PipelineStages = 2 } }); });
        Assert.Contains("one pipeline stage", pipeline.Message, StringComparison.Ordinal);
        var real = Assert.Throws<ArgumentException>(() => { _ = TorchProfiler.ProfileToFolderAsync(Options(1, 2) with { Parallel = new ParallelProfileOptions { TensorParallelDegree = 2, PipelineStages = 1, Execution = ParallelExecution.Real } }); });
        Assert.Contains("single queries", real.Message, StringComparison.Ordinal);
        var direct = Assert.Throws<ArgumentException>(() => new ParallelProfiler(Cpu, new ParallelProfileOptions { TensorParallelDegree = 1, PipelineStages = 2 }).Run(TinyArchitectures.Llama, Options(1, 2).Plan));
        Assert.Equal("plan", direct.ParamName);
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
