using LlmEff.Core;
using LlmEff.Core.Energy;
using LlmEff.Core.Serialization;

namespace LlmEff.Profiling.Torch.Tests.Profiling;

public sealed class ProfileToFolderTests : IDisposable
{
    private static readonly ProfilingPlan Plan = TinyFolderRun.Plan;

    private readonly string _dir = Directory.CreateTempSubdirectory("llmeff-folder-").FullName;

    private ProfileFolderOptions Options => TinyFolderRun.In(_dir);

    [TorchFact]
    public async Task A_batch_1_rerun_after_a_batched_run_resumes_only_batch_1_samples()
    {
        // Both write the same file under the same label; batched rows once stood in for batch-1 points.
        var plan = new ProfilingPlan { PromptTokens = [2, 8], OutputTokens = [1, 3], Trials = 1, WarmupRuns = 0 };
        await TorchProfiler.ProfileToFolderAsync(Options with { Architecture = TinyArchitectures.Llama, Plan = plan with { BatchSizes = [1, 2] } }, cancellationToken: TestContext.Current.CancellationToken);

        var again = await TorchProfiler.ProfileToFolderAsync(Options with { Architecture = TinyArchitectures.Llama, Plan = plan }, cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(4, again.Profile!.Samples.Count);
        Assert.All(again.Profile.Samples, s => Assert.Equal(1, s.BatchSize ?? 1));
    }

    [TorchFact]
    public void File_names_are_spelled_once()
    {
        var arch = TinyArchitectures.Gpt with { Name = "EleutherAI/GPT-J" };
        Assert.Equal("eleutherai-gpt-j-samples.csv", ProfileFiles.SamplesFileName(arch));
        Assert.Equal("eleutherai-gpt-j-runtime-model.json", ProfileFiles.RuntimeModelFileName(arch));
        Assert.Equal("eleutherai-gpt-j-runtime-model.energy.json", ProfileFiles.EnergyModelFileName(arch));
        Assert.Equal("eleutherai-gpt-j-tp2-pp3-stage1-samples.csv", ProfileFiles.StageSamplesFileName(arch, 2, 3, 1));
        Assert.Equal("eleutherai-gpt-j-tp2-pp3-runtime-model.json", ProfileFiles.ParallelRuntimeModelFileName(arch, 2, 3));
    }

    [TorchFact]
    public async Task Single_device_run_writes_samples_and_model_then_resumes_without_remeasuring()
    {
        var reports = new List<ProfilingProgress>();
        var first = await TorchProfiler.ProfileToFolderAsync(Options, new SyncProgress<ProfilingProgress>(reports.Add), cancellationToken: TestContext.Current.CancellationToken);

        var samplesPath = Path.Combine(_dir, "tiny-gpt-samples.csv");
        Assert.Equal([samplesPath], first.SamplesPaths);
        Assert.Equal(Path.Combine(_dir, "tiny-gpt-runtime-model.json"), first.ModelPath);
        Assert.Equal((1, 1, 1), (first.TensorParallelDegree, first.PipelineStages, first.AcceleratorCount));
        Assert.Equal(6, first.SampleCount);
        Assert.Equal(0, first.ResumedSamples);
        Assert.Equal(6, reports.Count);
        Assert.All(ProfilingSampleCsv.ReadFile(samplesPath), s => Assert.Equal("torchsharp:tiny-gpt:fp32", s.Source));
        var model = RuntimeModelJson.Load(first.ModelPath);
        Assert.Equal("tiny-gpt", model.Metadata.ModelName);
        Assert.False(model.Metadata.Emulated);
        Assert.Null(first.Energy);
        Assert.Null(first.EnergyModelPath);
        Assert.Null(first.Parallel);
        Assert.False(File.Exists(Path.Combine(_dir, "tiny-gpt-runtime-model.energy.json")));

        var lines = File.ReadAllLines(samplesPath);
        var again = await TorchProfiler.ProfileToFolderAsync(Options, cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(6, again.ResumedSamples);
        Assert.Equal(lines, File.ReadAllLines(samplesPath));
    }

    [TorchFact]
    public async Task Cancelled_run_keeps_finished_points_and_the_rerun_measures_only_the_rest()
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var progress = new SyncProgress<ProfilingProgress>(r =>
        {
            if (r.Completed == 2)
            {
                cts.Cancel();
            }
        });
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => TorchProfiler.ProfileToFolderAsync(Options, progress, cancellationToken: cts.Token));
        var samplesPath = Path.Combine(_dir, "tiny-gpt-samples.csv");
        Assert.Equal(2, ProfilingSampleCsv.ReadFile(samplesPath).Count);

        var result = await TorchProfiler.ProfileToFolderAsync(Options, cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(2, result.ResumedSamples);
        Assert.Equal(6, ProfilingSampleCsv.ReadFile(samplesPath).Count);
    }

    [TorchFact]
    public void Samples_of_another_precision_or_a_run_that_must_not_resume_are_refused_before_it_starts()
    {
        var samplesPath = Path.Combine(_dir, "tiny-gpt-samples.csv");
        ProfilingSampleCsv.WriteFile(samplesPath, [new ProfilingSample(1, 1, 0.01) { Trial = 0, Source = "torchsharp:tiny-gpt:bf16" }]);

        var ex = Assert.Throws<InvalidOperationException>(() => { _ = TorchProfiler.ProfileToFolderAsync(Options); });
        Assert.Contains("torchsharp:tiny-gpt:bf16", ex.Message, StringComparison.Ordinal);
        Assert.Contains("torchsharp:tiny-gpt:fp32", ex.Message, StringComparison.Ordinal);

        ex = Assert.Throws<InvalidOperationException>(() => { _ = TorchProfiler.ProfileToFolderAsync(Options with { Resume = false }); });
        Assert.Contains("Resume = true", ex.Message, StringComparison.Ordinal);
    }

    [TorchFact]
    public void Bad_options_name_the_property()
    {
        Assert.Equal("OutputDirectory", Assert.Throws<ArgumentException>(() => { _ = TorchProfiler.ProfileToFolderAsync(Options with { OutputDirectory = " " }); }).ParamName);
        var tooLong = Plan with { PromptTokens = [1, 64] };
        var ex = Assert.Throws<ArgumentException>(() => { _ = TorchProfiler.ProfileToFolderAsync(Options with { Plan = tooLong }); });
        Assert.Equal("Plan", ex.ParamName);
        Assert.Contains("context of 64", ex.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentNullException>(() => { _ = TorchProfiler.ProfileToFolderAsync(null!); });
    }

    [TorchFact]
    public async Task Samples_with_energy_give_the_energy_model_beside_the_runtime_model()
    {
        // Every point already measured with energy (as an NVML run writes them): the run resumes them all on the CPU and fits.
        var samples = from p in Plan.PromptTokens
                      from o in Plan.OutputTokens
                      select new ProfilingSample(p, o, 0.01 + (1e-4 * p) + (0.01 * (o - 1))) { Trial = 0, Source = "torchsharp:tiny-gpt:fp32", EnergyJoules = 5 + (0.01 * p) + (2.0 * (o - 1)) };
        WriteAsThisSetups(samples);

        var result = await TorchProfiler.ProfileToFolderAsync(Options, cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(Path.Combine(_dir, "tiny-gpt-runtime-model.energy.json"), result.EnergyModelPath);
        var energy = EnergyModelJson.Load(result.EnergyModelPath!);
        Assert.Equal(2.0, energy.PerOutputTokenJoules, 1e-9);
        Assert.Equal(5.08, energy.PredictPromptEncodingJoules(8), 1e-9);
        Assert.Equal("tiny-gpt", energy.Metadata.ModelName);
        Assert.Equal(result.Energy!.PerOutputTokenJoules, energy.PerOutputTokenJoules);
    }

    [TorchFact]
    public async Task Energies_that_cannot_be_fitted_leave_the_runtime_model_and_write_no_energy_model()
    {
        // Energy falling with the output length (counter noise above a token's energy): e would be negative.
        var samples = from p in Plan.PromptTokens
                      from o in Plan.OutputTokens
                      select new ProfilingSample(p, o, 0.01 + (0.01 * (o - 1))) { Trial = 0, Source = "torchsharp:tiny-gpt:fp32", EnergyJoules = 10.0 - o };
        WriteAsThisSetups(samples);

        var result = await TorchProfiler.ProfileToFolderAsync(Options, cancellationToken: TestContext.Current.CancellationToken);

        Assert.True(File.Exists(result.ModelPath));
        Assert.Null(result.Energy);
        Assert.Null(result.EnergyModelPath);
        Assert.False(File.Exists(Path.Combine(_dir, ProfileFiles.EnergyModelFileName(TinyArchitectures.Gpt))));
    }

    [TorchFact]
    public async Task Emulated_layout_writes_one_samples_file_per_stage_and_the_composed_model()
    {
        // Wide enough (h = 512) and long enough outputs that a decode step dwarfs CPU timing noise, as in ParallelProfilerTests;
        // where a loaded machine still makes a stage's fit non-physical, it is kept with warnings: this test is about files.
        var options = Options with
        {
            FitOptions = new RuntimeFitOptions { RSquaredWarningThreshold = 0, KeepNonPhysicalFit = true },
            Architecture = TinyArchitectures.Llama with { HiddenSize = 512, FfnHiddenSize = 2048 },
            Plan = new ProfilingPlan { PromptTokens = [1, 8], OutputTokens = [1, 8, 16], Trials = 2, WarmupRuns = 1 },
            Parallel = new ParallelProfileOptions { TensorParallelDegree = 2, PipelineStages = 2 },
        };
        var result = await TorchProfiler.ProfileToFolderAsync(options, cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal((2, 2, 4), (result.TensorParallelDegree, result.PipelineStages, result.AcceleratorCount));
        Assert.Equal([Path.Combine(_dir, "tiny-llama-tp2-pp2-stage0-samples.csv"), Path.Combine(_dir, "tiny-llama-tp2-pp2-stage1-samples.csv")], result.SamplesPaths);
        Assert.All(result.SamplesPaths, p => Assert.True(File.Exists(p)));
        Assert.Equal(Path.Combine(_dir, "tiny-llama-tp2-pp2-runtime-model.json"), result.ModelPath);
        Assert.True(RuntimeModelJson.Load(result.ModelPath).Metadata.Emulated);
        Assert.Equal(24, result.SampleCount);
        Assert.NotNull(result.Parallel);
        Assert.Null(result.Profile);
        Assert.Null(result.Energy);
    }

    // Samples as this CPU run would have written them: the file and the setup recorded beside it, so the run resumes them.
    private void WriteAsThisSetups(IEnumerable<ProfilingSample> samples)
    {
        var path = Path.Combine(_dir, ProfileFiles.SamplesFileName(TinyArchitectures.Gpt));
        ProfilingSampleCsv.WriteFile(path, samples);
        TorchProfiler.SetupOf(Options.Profiler, TinyArchitectures.Gpt, ModelShard.Full, Options.Plan).Write(SamplesSetup.PathFor(path));
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
