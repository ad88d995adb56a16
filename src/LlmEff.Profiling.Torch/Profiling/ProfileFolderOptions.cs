using LlmEff.Core;
using LlmEff.Core.Architecture;
using LlmEff.Core.Energy;

namespace LlmEff.Profiling.Torch;

/// <summary>
/// What <see cref="TorchProfiler.ProfileToFolderAsync"/> profiles and where it writes: the architecture, the plan, the device
/// and precision, an optional emulated multi-GPU layout, and the fit options. Files are named by <see cref="ProfileFiles"/>.
/// </summary>
public sealed record ProfileFolderOptions
{
    /// <summary>The architecture to build with random weights. Required.</summary>
    public required TransformerArchitecture Architecture { get; init; }

    /// <summary>The folder for the samples, the runtime model and its energy model; created when missing. Required.</summary>
    public required string OutputDirectory { get; init; }

    /// <summary>Prompt sizes, output lengths, trials, warm-up and prompt seed. Default <see cref="ProfilingPlan.Paper"/>.</summary>
    public ProfilingPlan Plan { get; init; } = ProfilingPlan.Paper;

    /// <summary>
    /// Device, precision, weight seed, CUDA graphs and energy measurement. Default <see cref="TorchProfilerOptions.Default"/>
    /// (cuda:0, bf16, energy where NVML answers). Its <see cref="TorchProfilerOptions.Shard"/> is set by the layout.
    /// </summary>
    public TorchProfilerOptions Profiler { get; init; } = TorchProfilerOptions.Default;

    /// <summary>
    /// A multi-GPU deployment emulated from rank-0 shards timed on <see cref="TorchProfilerOptions.Device"/>: its degrees, or
    /// Core's minimum-accelerator layout on its accelerator for degrees left null. Default null: the whole model on one
    /// device. A layout that comes out as 1 × 1 is profiled as the whole model.
    /// </summary>
    public ParallelProfileOptions? Parallel { get; init; }

    /// <summary>
    /// Whether a run appends to the samples already in the folder and skips their points (so an interrupted run picks up
    /// where it stopped). Default true. When false, a non-empty samples file is refused rather than overwritten.
    /// </summary>
    public bool Resume { get; init; } = true;

    /// <summary>Options of the runtime fit; its metadata, when null, becomes the profile's provenance. Default <see cref="RuntimeFitOptions.Default"/>.</summary>
    public RuntimeFitOptions FitOptions { get; init; } = RuntimeFitOptions.Default;

    /// <summary>Options of the energy fit (when the samples carry energy). Default <see cref="EnergyFitOptions.Default"/>.</summary>
    public EnergyFitOptions EnergyFitOptions { get; init; } = EnergyFitOptions.Default;

    /// <summary>
    /// The samples' <c>source</c> label of a single-device run: <see cref="TorchProfilerOptions.SourceLabel"/>, or
    /// <c>torchsharp:&lt;model&gt;:&lt;bf16|fp16|fp32&gt;</c>. A run resumes only a samples file with the same label and the
    /// same setup recorded beside it (<c>{samples}.setup.json</c>: architecture shape, device, shard, seeds and measurement settings).
    /// </summary>
    public string SourceLabel => Profiler.SourceLabel ?? TorchProfiler.SourceLabel(Architecture, Profiler.Model.Precision, ModelShard.Full);

    /// <summary>Checks the options, naming the property and the fix.</summary>
    /// <exception cref="ArgumentException">A missing architecture or folder, an invalid plan, a plan longer than the architecture's context, or invalid profiler or layout options.</exception>
    public ProfileFolderOptions Validate()
    {
        if (Architecture is null)
        {
            throw new ArgumentException("Set ProfileFolderOptions.Architecture to the architecture to profile (e.g. from ArchitectureCatalog).", nameof(Architecture));
        }

        if (string.IsNullOrWhiteSpace(OutputDirectory))
        {
            throw new ArgumentException("Set ProfileFolderOptions.OutputDirectory to the folder for the samples and models.", nameof(OutputDirectory));
        }

        ArgumentNullException.ThrowIfNull(Plan, nameof(Plan));
        ArgumentNullException.ThrowIfNull(Profiler, nameof(Profiler));
        ArgumentNullException.ThrowIfNull(FitOptions, nameof(FitOptions));
        ArgumentNullException.ThrowIfNull(EnergyFitOptions, nameof(EnergyFitOptions));
        Architecture.Validate();
        Plan.Validate();
        EnergyFitOptions.Validate();
        TorchProfiler.CheckOptions(Profiler, nameof(Profiler));
        Parallel?.Validate(nameof(Parallel));
        if (Plan.IsBatched && !Plan.BatchSizes.Contains(1))
        {
            throw new ArgumentException($"Plan.BatchSizes {string.Join(",", Plan.BatchSizes)}: include 1, so the folder's batch-1 runtime model is measured too (e.g. 1,4,16).", nameof(Plan));
        }

        if (Plan.CapacityTokens > Architecture.MaxContextTokens)
        {
            throw new ArgumentException(
                FormattableString.Invariant($"The largest prompt ({Plan.MaxPromptTokens}) plus the longest output ({Plan.MaxOutputTokens}) minus 1 is {Plan.CapacityTokens} tokens, beyond {Architecture.Name}'s context of {Architecture.MaxContextTokens}; use smaller prompt sizes or output lengths."),
                nameof(Plan));
        }

        return this;
    }
}
