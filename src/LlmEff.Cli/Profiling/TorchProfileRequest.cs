using LlmEff.Core;
using LlmEff.Core.Architecture;
using LlmEff.Profiling.Torch.Model;
using LlmEff.Profiling.Torch.Profiling;

namespace LlmEff.Cli.Profiling;

/// <summary>
/// What <c>llmeff profile torch</c> was asked to do, parsed and validated without touching TorchSharp (so bad input fails
/// fast and libtorch loads only for a valid run).
/// </summary>
/// <param name="Architecture">The architecture to build with random weights.</param>
/// <param name="Plan">Prompt sizes, output lengths, trials, warm-up and prompt seed.</param>
/// <param name="Profiler">Device, precision, weight seed and energy measurement.</param>
/// <param name="OutputDirectory">Folder for the samples CSV, the runtime-model JSON and its energy companion.</param>
internal sealed record TorchProfileRequest(TransformerArchitecture Architecture, ProfilingPlan Plan, TorchProfilerOptions Profiler, string OutputDirectory)
{
    /// <summary>Degrees and links of a multi-GPU deployment emulated from rank-0 shards; null for the whole model on one device.</summary>
    public LlmEff.Profiling.Torch.Parallelism.ParallelProfileOptions? Parallel { get; init; }

    /// <summary>How the samples are fitted: the paper's defaults, with <c>--keep-non-physical</c> setting <see cref="RuntimeFitOptions.KeepNonPhysicalFit"/>.</summary>
    public RuntimeFitOptions FitOptions { get; init; } = RuntimeFitOptions.Default;

    /// <summary>The emulated composed model's file, <c>&lt;slug&gt;-tp{N}-pp{S}-runtime-model.json</c>.</summary>
    public string ParallelModelPath(int tensorParallel, int stages) =>
        Path.Combine(OutputDirectory, string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{Slug}-tp{tensorParallel}-pp{stages}-runtime-model.json"));

    /// <summary>File-name stem of the outputs, as the GPU harness names them: the architecture name with every non-alphanumeric as '-', lower case.</summary>
    public string Slug => ProfileFiles.Slug(Architecture.Name);

    /// <summary>The samples CSV, appended as points are measured; rerunning resumes from it.</summary>
    public string SamplesPath => Path.Combine(OutputDirectory, Slug + "-samples.csv");

    /// <summary>The samples' <c>source</c> label, <c>torchsharp:&lt;model&gt;:&lt;dtype&gt;</c> (the profiler's default): a rerun resumes only a file with the same label.</summary>
    public string SourceLabel => Profiler.SourceLabel ?? $"torchsharp:{Architecture.Name}:{PrecisionName}";

    /// <summary>The precision as written in labels and provenance: bf16, fp16 or fp32.</summary>
    public string PrecisionName => Profiler.Model.Precision switch
    {
        ModelPrecision.Float16 => "fp16",
        ModelPrecision.Float32 => "fp32",
        _ => "bf16",
    };

    /// <summary>The fitted runtime model with provenance.</summary>
    public string ModelPath => Path.Combine(OutputDirectory, Slug + "-runtime-model.json");
}
