using LlmEff.Core;
using LlmEff.Core.Batching;
using LlmEff.Core.Architecture;
using LlmEff.Core.Energy;
using Microsoft.Extensions.Logging;

namespace LlmEff.Profiling.Torch;

/// <summary>
/// The result of a profiling run: the samples and which (model, software, hardware) they describe. Feed it to
/// <see cref="Fit"/> (or <see cref="RuntimeModel.Fit(IEnumerable{ProfilingSample}, RuntimeFitOptions?)"/> with <see cref="Samples"/>).
/// </summary>
/// <param name="Architecture">The profiled architecture.</param>
/// <param name="Precision">Weight and activation precision.</param>
/// <param name="Plan">The plan that was run.</param>
/// <param name="Samples">Every timed sample of the plan, including those resumed from the samples file.</param>
/// <param name="Hardware">Device description, e.g. <c>NVIDIA H100 80GB HBM3</c>.</param>
/// <param name="Software">Engine and versions, e.g. <c>LlmEff TorchScript decoder, TorchSharp 0.107.0, .NET 10.0.0, bf16</c>.</param>
/// <param name="MeasuredUtc">When the run finished.</param>
public sealed record TorchProfile(
    TransformerArchitecture Architecture,
    ModelPrecision Precision,
    ProfilingPlan Plan,
    IReadOnlyList<ProfilingSample> Samples,
    string Hardware,
    string Software,
    DateTimeOffset MeasuredUtc)
{
    /// <summary>Samples read back from the file instead of measured in this run.</summary>
    public int ResumedSamples { get; init; }

    /// <summary>GPU power with nothing running, measured before the run (W); null when energy was not measured.</summary>
    public double? IdlePowerWatts { get; init; }

    /// <summary>The GPU's enforced board power limit (W): the paper's power for idealized energy (§4.2).</summary>
    public double? BoardPowerWatts { get; init; }

    /// <summary>Update interval of the NVML energy counter (s); null when energy was not measured.</summary>
    public double? EnergyCounterIntervalSeconds { get; init; }

    /// <summary>The smallest step of the energy counter in joules (NVML counts millijoules); null when energy was not measured.</summary>
    public double? EnergyCounterResolutionJoules { get; init; }

    /// <summary>Whether any sample carries a measured energy (a CUDA GPU with NVML and <see cref="TorchProfilerOptions.MeasureEnergy"/>).</summary>
    public bool HasEnergy => Samples.Any(s => s.EnergyJoules is > 0);

    /// <summary>The shard that was timed (the whole model's shape unless a tensor/pipeline-parallel shard was profiled).</summary>
    public ShardShape? Shard { get; init; }

    /// <summary>The samples file, when one was written.</summary>
    public string? SamplesPath { get; init; }

    /// <summary>Idle time waited before each timed point (<see cref="TorchProfilerOptions.IdleBeforeEachQuery"/>); zero when the grid ran back to back. The fitted model's notes say so.</summary>
    public TimeSpan IdleBeforeEachQuery { get; init; }

    /// <summary>Provenance for the fitted model: idealized runtime of this architecture on this hardware and software.</summary>
    public RuntimeModelMetadata ToMetadata() => new()
    {
        ModelName = Architecture.Name,
        Metric = RuntimeMetric.Idealized,
        Hardware = Hardware,
        AcceleratorCount = 1,
        Software = Software,
        Source = SamplesPath is null ? "LlmEff.Profiling.Torch" : $"LlmEff.Profiling.Torch: {Path.GetFileName(SamplesPath)}",
        MeasuredUtc = MeasuredUtc,
        Emulated = false,
        Notes = FormattableString.Invariant(
            $"random weights; {(Shard is { IsFull: false } ? TorchProfiler.Describe(Shard) + "shard only, collectives not included; " : string.Empty)}h={Architecture.HiddenSize} l={Architecture.Layers} n={Architecture.Heads} kv={Architecture.KeyValueHeads} f={Architecture.FfnHiddenSize} V={Architecture.VocabularySize} {Architecture.Norm} {Architecture.Positions} {Architecture.Ffn}{(Architecture.IsMixtureOfExperts ? $" experts={Architecture.Experts} top-{Architecture.ExpertsPerToken} f_e={Architecture.ExpertFfnHiddenSize} shared={Architecture.SharedExperts} active={Architecture.ActiveParameterCount} uniform seeded routing" : string.Empty)}{(Architecture.SlidingWindowTokens is { } w ? $" window={w}" : string.Empty)} params={Architecture.ParameterCount}; {Precision.ShortName()}; plan P={{{string.Join(",", Plan.PromptTokens)}}} O={{{string.Join(",", Plan.OutputTokens)}}} x{Plan.Trials}{(IdleBeforeEachQuery > TimeSpan.Zero ? $"; {IdleBeforeEachQuery.TotalSeconds:0.###} s idle before each timed point" : string.Empty)}"),
    };

    /// <summary>
    /// Fits Core's <see cref="EnergyModel"/>, <c>E(p, o) = E_pe(p) + (o − 1)·e</c> in joules, to the samples that carry
    /// <see cref="ProfilingSample.EnergyJoules"/> (the profiler measures energy on the first
    /// <see cref="TorchProfilerOptions.EnergyTrials"/> trials only), with this run's idle and board power, the counter's
    /// resolution and update interval, and provenance. The energy is that of the one GPU that was timed.
    /// </summary>
    /// <param name="options">Fit options; null for <see cref="EnergyFitOptions.Default"/> (an adaptive plan's allow prompt sizes measured at one output length).</param>
    /// <param name="logger">Receives the fit's warnings; null for none.</param>
    /// <exception cref="InvalidOperationException">No sample carries energy (see <see cref="HasEnergy"/>).</exception>
    /// <exception cref="ArgumentException">The energies cannot be fitted, e.g. a negative energy per output token (the message says how to measure instead).</exception>
    public EnergyModel FitEnergy(EnergyFitOptions? options = null, ILogger<EnergyModel>? logger = null)
    {
        var energy = Samples.Where(s => s.EnergyJoules is > 0).ToList();
        if (energy.Count == 0)
        {
            throw new InvalidOperationException($"No sample of {Architecture.Name} carries EnergyJoules; profile on a CUDA GPU with NVML and TorchProfilerOptions.MeasureEnergy = true.");
        }

        // An adaptive plan measures most prompt sizes at one output length, as its runtime fit allows (see Fit).
        if (Plan.IsAdaptive)
        {
            options = (options ?? EnergyFitOptions.Default) with { AllowSingleOutputLength = true };
        }

        var runtime = ToMetadata();
        return EnergyModel.Fit(energy, options, logger) with
        {
            AcceleratorCount = 1,
            IdlePowerWatts = IdlePowerWatts,
            BoardPowerWatts = BoardPowerWatts,
            CounterResolutionJoules = EnergyCounterResolutionJoules,
            CounterUpdateIntervalSeconds = EnergyCounterIntervalSeconds,
            Metadata = new EnergyModelMetadata
            {
                ModelName = runtime.ModelName,
                Hardware = runtime.Hardware,
                Software = runtime.Software,
                Source = runtime.Source,
                MeasuredUtc = runtime.MeasuredUtc,
                Notes = FormattableString.Invariant($"{energy.Count} of {Samples.Count} samples carry energy; {runtime.Notes}"),
            },
        };
    }

    /// <summary>
    /// Fits the paper's runtime model to <see cref="Samples"/>, with this profile's provenance unless the options carry their
    /// own. The samples of an adaptive plan (<see cref="ProfilingPlan.AdaptiveBudget"/>) measure most prompt sizes at one output
    /// length: their fit allows that, and where the decode model is left at its default it is chosen by cross-validation
    /// (<see cref="Core.Planning.AdaptiveProfilingPlanner.FitOptions"/>).
    /// </summary>
    /// <exception cref="RuntimeFitException">
    /// The fit is not physical (noisy timings: a busy device, no warm-up, too few trials) and <see cref="RuntimeFitOptions.KeepNonPhysicalFit"/> is not set.
    /// </exception>
    public RuntimeModel Fit(RuntimeFitOptions? options = null, ILogger? logger = null)
    {
        options = FitOptionsFor(options);
        return RuntimeModel.Fit(Samples, options with { Metadata = options.Metadata ?? ToMetadata() }, logger);
    }

    /// <summary>
    /// An adaptive plan's fit with the planner's own estimate of its error at the candidates it did not measure
    /// (<see cref="Core.Planning.AdaptiveProfilingPlanner.Assess"/>; non-physical fits kept, with their warnings); null for a grid.
    /// </summary>
    /// <param name="options">Fit options, adapted as <see cref="Fit"/> adapts them; null for the planner's.</param>
    /// <param name="cancellationToken">Stops between cross-validation folds.</param>
    public Core.Planning.PlanAssessment? Assess(RuntimeFitOptions? options = null, CancellationToken cancellationToken = default)
    {
        if (!Plan.IsAdaptive)
        {
            return null;
        }

        options = FitOptionsFor(options);
        return TorchProfiler.Planner(Plan).Assess(Samples, options with { Metadata = options.Metadata ?? ToMetadata() }, cancellationToken);
    }

    private RuntimeFitOptions FitOptionsFor(RuntimeFitOptions? options)
    {
        if (!Plan.IsAdaptive)
        {
            return options ?? RuntimeFitOptions.Default;
        }

        options ??= Core.Planning.AdaptiveProfilingPlanner.FitOptions;
        return options with
        {
            AllowSingleOutputLength = true,
            Decode = options.Decode == RuntimeFitOptions.Default.Decode ? Core.Planning.AdaptiveProfilingPlanner.FitOptions.Decode : options.Decode,
        };
    }

    /// <summary>Fits the batched runtime model to <see cref="Samples"/> of a batched plan (two or more batch sizes), with this profile's provenance.</summary>
    /// <param name="options">Options of each per-batch-size fit; null uses the context-aware decode (see <see cref="BatchedRuntimeModel.Fit"/>).</param>
    /// <param name="logger">Receives each fit's findings.</param>
    /// <exception cref="ArgumentException">The samples hold fewer than two batch sizes.</exception>
    /// <exception cref="RuntimeFitException">A per-batch-size fit is not physical and <see cref="RuntimeFitOptions.KeepNonPhysicalFit"/> is not set.</exception>
    public BatchedRuntimeModel FitBatched(RuntimeFitOptions? options = null, ILogger? logger = null)
    {
        options ??= RuntimeFitOptions.Default with { Decode = DecodeModel.ContextLinear };
        return BatchedRuntimeModel.Fit(Samples, options with { Metadata = options.Metadata ?? ToMetadata() }, logger);
    }
}
