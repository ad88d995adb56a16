using LlmEff.Core;

namespace LlmEff.Profiling.Torch.Tests.Profiling;

/// <summary>The folder run the resume and up-front-check tests share: a tiny GPT on the CPU over a 2 × 3 grid.</summary>
internal static class TinyFolderRun
{
    public static readonly TorchProfilerOptions Cpu = new()
    {
        Device = "cpu",
        Model = new DecoderOptions { Precision = ModelPrecision.Float32, Seed = 3 },
    };

    public static readonly ProfilingPlan Plan = new() { PromptTokens = [1, 8], OutputTokens = [1, 2, 4], Trials = 1, WarmupRuns = 0 };

    // A tiny model timed on a shared CPU is noise: these tests check files and resume, so the fit keeps what it gets
    // (with its warnings) instead of refusing it.
    public static readonly RuntimeFitOptions Lenient = new() { RSquaredWarningThreshold = 0, KeepNonPhysicalFit = true };

    /// <summary>Options writing into <paramref name="directory"/>.</summary>
    public static ProfileFolderOptions In(string directory) => new()
    {
        Architecture = TinyArchitectures.Gpt,
        OutputDirectory = directory,
        Plan = Plan,
        Profiler = Cpu,
        FitOptions = Lenient,
    };
}
