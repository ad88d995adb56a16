using LlmEff.Core;
using LlmEff.Core.Serialization;

namespace LlmEff.Profiling.Torch.Tests.Profiling;

public sealed class TorchProfilerTests : IDisposable
{
    private static readonly TorchProfilerOptions CpuOptions = new()
    {
        Device = "cpu",
        Model = new DecoderOptions { Precision = ModelPrecision.Float32, Seed = 3 },
    };

    private static readonly ProfilingPlan SmallPlan = new()
    {
        PromptTokens = [1, 8, 16],
        OutputTokens = [1, 2, 4],
        Trials = 2,
        WarmupRuns = 1,
    };

    private readonly string _dir = Directory.CreateTempSubdirectory("llmeff-torch-").FullName;

    [TorchFact]
    public void Profiles_every_point_once_writes_them_to_csv_and_the_result_fits()
    {
        var path = Path.Combine(_dir, "samples.csv");
        var reports = new List<ProfilingProgress>();
        var profile = new TorchProfiler(CpuOptions).Run(TinyArchitectures.Llama, SmallPlan, path, new SyncProgress<ProfilingProgress>(reports.Add), TestContext.Current.CancellationToken);

        Assert.Equal(SmallPlan.TotalQueries, profile.Samples.Count);
        Assert.Equal(SmallPlan.Points().OrderBy(x => x).ToList(), profile.Samples.Select(s => (s.PromptTokens, s.OutputTokens, s.Trial ?? -1)).OrderBy(x => x).ToList());
        Assert.All(profile.Samples, s => Assert.True(s.RuntimeSeconds > 0));
        Assert.Equal(profile.Samples, ProfilingSampleCsv.ReadFile(path));
        Assert.Equal(Enumerable.Range(1, SmallPlan.TotalQueries), reports.Select(r => r.Completed));

        var model = profile.Fit(new RuntimeFitOptions { RSquaredWarningThreshold = 0, KeepNonPhysicalFit = true });
        Assert.Equal([1, 8, 16], model.ProfiledPromptTokens);
        Assert.Equal("tiny-llama", model.Metadata.ModelName);
        Assert.Equal(RuntimeMetric.Idealized, model.Metadata.Metric);
        Assert.Contains("fp32", model.Metadata.Software, StringComparison.Ordinal);
        Assert.Contains("kv=2", model.Metadata.Notes, StringComparison.Ordinal);
    }

    [TorchFact]
    public void Interrupted_run_resumes_without_repeating_finished_points()
    {
        var path = Path.Combine(_dir, "resume.csv");
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var progress = new SyncProgress<ProfilingProgress>(r =>
        {
            if (r.Completed == 7)
            {
                cts.Cancel();
            }
        });
        var profiler = new TorchProfiler(CpuOptions);
        Assert.ThrowsAny<OperationCanceledException>(() => profiler.Run(TinyArchitectures.Gpt, SmallPlan, path, progress, cts.Token));
        var first = ProfilingSampleCsv.ReadFile(path);
        Assert.Equal(7, first.Count);

        var resumedReports = new List<ProfilingProgress>();
        var profile = profiler.Run(TinyArchitectures.Gpt, SmallPlan, path, new SyncProgress<ProfilingProgress>(resumedReports.Add), TestContext.Current.CancellationToken);
        Assert.Equal(7, profile.ResumedSamples);
        Assert.Equal(SmallPlan.TotalQueries - 7, resumedReports.Count);
        Assert.Equal(8, resumedReports[0].Completed);
        var all = ProfilingSampleCsv.ReadFile(path);
        Assert.Equal(SmallPlan.TotalQueries, all.Count);
        Assert.Equal(all.Count, all.Select(s => (s.PromptTokens, s.OutputTokens, s.Trial)).Distinct().Count());
        Assert.Equal(first, all.Take(7));
        Assert.Equal(SmallPlan.TotalQueries, profile.Samples.Count);
    }

    [TorchFact]
    public void Resuming_into_a_file_of_another_model_is_refused()
    {
        var path = Path.Combine(_dir, "other.csv");
        ProfilingSampleCsv.WriteFile(path, [new ProfilingSample(1, 1, 0.1) { Trial = 0, Source = "torchsharp:another:bf16" }]);
        var ex = Assert.Throws<InvalidOperationException>(() => new TorchProfiler(CpuOptions).Run(TinyArchitectures.Gpt, SmallPlan, path, cancellationToken: TestContext.Current.CancellationToken));
        Assert.Contains("torchsharp:another:bf16", ex.Message, StringComparison.Ordinal);
    }

    [TorchFact]
    public void Decoder_smaller_than_the_plan_is_rejected()
    {
        using var model = DecoderTransformer.Create(TinyArchitectures.Gpt, CpuOptions.Model);
        using var decoder = new GreedyDecoder(model, 10);
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new TorchProfiler(CpuOptions).Run(decoder, SmallPlan, cancellationToken: TestContext.Current.CancellationToken));
        Assert.Contains("19", ex.Message, StringComparison.Ordinal);
    }

    [TorchFact]
    public void A_row_torn_by_a_crash_is_measured_again_not_refused()
    {
        var path = Path.Combine(_dir, "torn.csv");
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var profiler = new TorchProfiler(CpuOptions);
        Assert.ThrowsAny<OperationCanceledException>(() => profiler.Run(TinyArchitectures.Gpt, SmallPlan, path, new SyncProgress<ProfilingProgress>(r =>
        {
            if (r.Completed == 2)
            {
                cts.Cancel();
            }
        }), cts.Token));
        File.AppendAllText(path, "16,1,0.00"); // the third row, cut off mid-write

        var profile = profiler.Run(TinyArchitectures.Gpt, SmallPlan, path, cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(2, profile.ResumedSamples);
        Assert.Equal(SmallPlan.TotalQueries, ProfilingSampleCsv.ReadFile(path).Count);
    }

    [TorchFact]
    public void A_batch_size_torn_to_1_does_not_replace_the_batch_1_sample()
    {
        // "…,10" cut after its "1" reads as a whole batch-1 row; the writer ends every row with a newline, so it is torn.
        var plan = new ProfilingPlan { PromptTokens = [2], OutputTokens = [1, 3], Trials = 1, WarmupRuns = 0, BatchSizes = [1, 10] };
        var path = Path.Combine(_dir, "batched.csv");
        File.WriteAllText(path, ProfilingSampleCsv.Header + "\n2,1,0.001,0,,,torchsharp:tiny-llama:fp32,1\n2,1,9.5,0,,,torchsharp:tiny-llama:fp32,1");
        TorchProfiler.SetupOf(CpuOptions, TinyArchitectures.Llama, ModelShard.Full, plan).Write(SamplesSetup.PathFor(path));
        using var model = DecoderTransformer.Create(TinyArchitectures.Llama, CpuOptions.Model);
        using var decoder = new BatchedGreedyDecoder(model, plan.CapacityTokens, plan.BatchSizes, CudaGraphMode.Off);

        var profile = new TorchProfiler(CpuOptions).Run(decoder, plan, path, cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(0.001, profile.Samples.Single(s => s is { PromptTokens: 2, OutputTokens: 1, BatchSize: null or 1 }).RuntimeSeconds);
        Assert.Equal(1, profile.ResumedSamples);
    }

    [TorchFact]
    public void Options_that_would_fail_after_the_build_are_refused_up_front()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new TorchProfiler(CpuOptions with { EnergyWindowIntervals = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new TorchProfiler(CpuOptions with { EnergyTrials = -1 }));
        // p + o − 1 wrapped to a negative capacity and passed every check.
        var wrap = Assert.Throws<ArgumentOutOfRangeException>(() => new ProfilingPlan { PromptTokens = [int.MaxValue], OutputTokens = [1, 2] }.Validate());
        Assert.Contains("exceeds any KV cache", wrap.Message, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
