using LlmEff.Core;
using LlmEff.Core.Serialization;

namespace LlmEff.Profiling.Torch.Tests.Profiling;

/// <summary>A resumed folder run must not silently mix in samples of another architecture shape or another device.</summary>
public sealed class ResumeIdentityTests : IDisposable
{
    private static readonly TorchProfilerOptions Cpu = TinyFolderRun.Cpu;

    private static readonly ProfilingPlan Plan = TinyFolderRun.Plan;

    private readonly string _dir = Directory.CreateTempSubdirectory("llmeff-resume-").FullName;

    private ProfileFolderOptions Options => TinyFolderRun.In(_dir);

    [TorchFact]
    public async Task Resuming_with_an_architecture_of_the_same_name_but_another_shape_is_refused()
    {
        // First run: tiny-gpt with 2 layers, every point measured.
        await TorchProfiler.ProfileToFolderAsync(Options, cancellationToken: TestContext.Current.CancellationToken);

        // The user edits the architecture (4 layers, twice the width) and reruns into the same folder.
        var changed = TinyArchitectures.Gpt with { Layers = 4, HiddenSize = 64 };
        Assert.Equal(TinyArchitectures.Gpt.Name, changed.Name);

        // The label (name and precision) is the same, so only the recorded setup tells the 2-layer samples from the 4-layer
        // model's: resumed, they would be fitted as its runtime.
        var ex = await Record.ExceptionAsync(() => TorchProfiler.ProfileToFolderAsync(Options with { Architecture = changed }, cancellationToken: TestContext.Current.CancellationToken));
        Assert.IsType<InvalidOperationException>(ex);
        Assert.Contains("architecture shape", ex.Message, StringComparison.Ordinal);
        Assert.Contains("another output file or folder", ex.Message, StringComparison.Ordinal);
    }

    [TorchFact]
    public async Task Samples_measured_on_another_device_are_not_resumed_as_this_devices()
    {
        // Every point as a cuda:0 run of the same model and precision writes it, with no setup recorded beside it (as
        // versions before the setup file wrote them): the label carries no device.
        var gpuSamples = from p in Plan.PromptTokens
                         from o in Plan.OutputTokens
                         select new ProfilingSample(p, o, 0.001 + (1e-5 * p) + (0.0005 * (o - 1))) { Trial = 0, Source = "torchsharp:tiny-gpt:fp32" };
        var samplesPath = Path.Combine(_dir, "tiny-gpt-samples.csv");
        ProfilingSampleCsv.WriteFile(samplesPath, gpuSamples);

        // Rerun on the CPU: samples whose device cannot be told are set aside, not taken as the CPU's.
        var result = await TorchProfiler.ProfileToFolderAsync(Options, cancellationToken: TestContext.Current.CancellationToken);

        Assert.Contains("Cpu", result.Model.Metadata.Hardware, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(0, result.ResumedSamples);
        Assert.Equal(6, ProfilingSampleCsv.ReadFile(Path.Combine(_dir, "tiny-gpt-samples.unverified.csv")).Count);
        Assert.Equal(6, ProfilingSampleCsv.ReadFile(samplesPath).Count);
    }

    [TorchFact]
    public async Task Samples_recorded_on_another_device_are_refused_naming_the_device()
    {
        await TorchProfiler.ProfileToFolderAsync(Options, cancellationToken: TestContext.Current.CancellationToken);
        var samplesPath = Path.Combine(_dir, "tiny-gpt-samples.csv");
        var setupPath = SamplesSetup.PathFor(samplesPath);
        (SamplesSetup.TryRead(setupPath)! with { Device = "NVIDIA H100 80GB HBM3" }).Write(setupPath);

        var ex = Assert.Throws<InvalidOperationException>(() => { _ = TorchProfiler.ProfileToFolderAsync(Options, cancellationToken: TestContext.Current.CancellationToken); });

        Assert.Contains("device 'NVIDIA H100 80GB HBM3' vs 'cpu'", ex.Message, StringComparison.Ordinal);
    }

    [TorchFact]
    public async Task Another_weights_seed_is_refused_and_the_same_setup_resumes()
    {
        await TorchProfiler.ProfileToFolderAsync(Options, cancellationToken: TestContext.Current.CancellationToken);

        var reseeded = Options with { Profiler = Cpu with { Model = Cpu.Model with { Seed = 4 } } };
        var ex = Assert.Throws<InvalidOperationException>(() => { _ = TorchProfiler.ProfileToFolderAsync(reseeded, cancellationToken: TestContext.Current.CancellationToken); });
        Assert.Contains("weights seed '3' vs '4'", ex.Message, StringComparison.Ordinal);

        var again = await TorchProfiler.ProfileToFolderAsync(Options, cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(6, again.ResumedSamples);
    }

    [TorchFact]
    public async Task Samples_timed_with_other_measurement_settings_are_refused_naming_them()
    {
        await TorchProfiler.ProfileToFolderAsync(Options, cancellationToken: TestContext.Current.CancellationToken);

        // Same model, device and seeds, but each query now waits before it runs: its runtimes are not the first run's.
        var rested = Options with { Profiler = Cpu with { IdleBeforeEachQuery = TimeSpan.FromSeconds(0.5) } };
        var ex = Assert.Throws<InvalidOperationException>(() => { _ = TorchProfiler.ProfileToFolderAsync(rested, cancellationToken: TestContext.Current.CancellationToken); });

        Assert.Contains("measurement settings", ex.Message, StringComparison.Ordinal);
        Assert.Contains("idle 0 s before each query", ex.Message, StringComparison.Ordinal);
        Assert.Contains("idle 0.5 s before each query", ex.Message, StringComparison.Ordinal);
    }

    [TorchFact]
    public async Task A_setup_recorded_before_the_measurement_settings_still_resumes()
    {
        await TorchProfiler.ProfileToFolderAsync(Options, cancellationToken: TestContext.Current.CancellationToken);
        var setupPath = SamplesSetup.PathFor(Path.Combine(_dir, "tiny-gpt-samples.csv"));
        var recorded = SamplesSetup.TryRead(setupPath)!;
        Assert.NotNull(recorded.Engine);
        (recorded with { Engine = null }).Write(setupPath);
        Assert.DoesNotContain("engine", File.ReadAllText(setupPath), StringComparison.Ordinal);

        var again = await TorchProfiler.ProfileToFolderAsync(Options, cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(6, again.ResumedSamples);
        Assert.Equal(recorded.Engine, SamplesSetup.TryRead(setupPath)!.Engine);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
