using LlmEff.Core.Metrics;

namespace LlmEff.Core.Energy;

/// <summary>
/// Measured energy per query with the runtime model's shape, <c>E(p, o) = E_pe(p) + (o − 1)·e</c>, fitted with the same
/// two-step regression (§3.4) on <see cref="ProfilingSample.EnergyJoules"/>. With the idle power measured before the run,
/// each prediction splits into idle energy (idle power × runtime × accelerators) and dynamic energy (the rest).
/// </summary>
public sealed class EnergyModel
{
    private EnergyModel(RuntimeModel joules, RuntimeModel runtime, double? idlePowerWatts, int accelerators)
    {
        Joules = joules;
        Runtime = runtime;
        IdlePowerWatts = idlePowerWatts;
        AcceleratorCount = accelerators;
    }

    /// <summary>The fitted energy curve, held as a <see cref="RuntimeModel"/> whose unit is joules instead of seconds.</summary>
    public RuntimeModel Joules { get; }

    /// <summary>The runtime model fitted on the same samples (for the idle share and average power).</summary>
    public RuntimeModel Runtime { get; }

    /// <summary>Idle power of one accelerator in watts, measured before the run; null when unknown.</summary>
    public double? IdlePowerWatts { get; }

    /// <summary>Accelerators whose energy the samples sum.</summary>
    public int AcceleratorCount { get; }

    /// <summary><c>e</c>: joules per output token after the first.</summary>
    public double PerOutputTokenJoules => Joules.PerOutputTokenSeconds;

    /// <summary>Coefficient of determination of the energy fit.</summary>
    public double RSquared => Joules.RSquared;

    /// <summary>
    /// Fits the energy model. Every sample needs <see cref="ProfilingSample.EnergyJoules"/>; samples without it are refused
    /// (filter them out first), so a mix of measured and unmeasured energy cannot bias the fit silently.
    /// </summary>
    /// <param name="samples">Samples with runtime and energy.</param>
    /// <param name="idlePowerWatts">Idle power of one accelerator, or null.</param>
    /// <param name="acceleratorCount">Accelerators summed in each sample's energy; at least 1.</param>
    /// <param name="options">Fit options, shared by the energy and runtime fits (decode model, aggregation...).</param>
    public static EnergyModel Fit(IEnumerable<ProfilingSample> samples, double? idlePowerWatts = null, int acceleratorCount = 1, RuntimeFitOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(samples);
        ArgumentOutOfRangeException.ThrowIfLessThan(acceleratorCount, 1);
        if (idlePowerWatts is { } idle && (!double.IsFinite(idle) || idle < 0))
        {
            throw new ArgumentOutOfRangeException(nameof(idlePowerWatts), idlePowerWatts, "Idle power is a finite, non-negative number of watts.");
        }

        var list = samples.ToList();
        var missing = list.FindIndex(s => s.EnergyJoules is null);
        if (missing >= 0)
        {
            throw new ArgumentException($"samples[{missing}] (p = {list[missing].PromptTokens}, o = {list[missing].OutputTokens}) has no EnergyJoules; fit energy only on samples whose energy was measured (filter with s => s.EnergyJoules is not null).", nameof(samples));
        }

        var bad = list.FindIndex(s => !double.IsFinite(s.EnergyJoules!.Value) || s.EnergyJoules <= 0);
        if (bad >= 0)
        {
            throw new ArgumentException($"samples[{bad}] has EnergyJoules = {list[bad].EnergyJoules}; energies must be finite and positive.", nameof(samples));
        }

        var joules = RuntimeModel.Fit(list.Select(s => s with { RuntimeSeconds = s.EnergyJoules!.Value }), options);
        var runtime = RuntimeModel.Fit(list, options);
        return new EnergyModel(joules, runtime, idlePowerWatts, acceleratorCount);
    }

    /// <summary><c>E_pe(p)</c>: joules to encode a prompt of <paramref name="promptTokens"/> tokens (first token included).</summary>
    public double PromptEncodingJoules(int promptTokens) => Joules.PromptEncodingSeconds(promptTokens);

    /// <summary>Predicted energy of one query in joules, summed over the accelerators.</summary>
    public double Predict(int promptTokens, int outputTokens) => Joules.Predict(promptTokens, outputTokens);

    /// <summary>The idle part of <see cref="Predict"/>: idle power × predicted runtime × accelerators (0 when idle power is unknown).</summary>
    public double IdleJoules(int promptTokens, int outputTokens)
        => (IdlePowerWatts ?? 0) * Runtime.Predict(promptTokens, outputTokens) * AcceleratorCount;

    /// <summary>The dynamic part: total minus idle, never below 0.</summary>
    public double DynamicJoules(int promptTokens, int outputTokens)
        => Math.Max(0, Predict(promptTokens, outputTokens) - IdleJoules(promptTokens, outputTokens));

    /// <summary>Average power while generating, per accelerator: <c>e / g / accelerators</c> in watts.</summary>
    public double DecodePowerWatts => PerOutputTokenJoules / Runtime.PerOutputTokenSeconds / AcceleratorCount;

    /// <summary>
    /// The paper's idealized energy of the same query (§4.2: runtime × accelerators × board power) divided by the measured
    /// energy: how loose the upper bound is.
    /// </summary>
    public double IdealizedToMeasuredRatio(int promptTokens, int outputTokens, double boardPowerWatts)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(boardPowerWatts);
        return IdealizedMetrics.EnergyJoules(Runtime.Predict(promptTokens, outputTokens), AcceleratorCount, boardPowerWatts) / Predict(promptTokens, outputTokens);
    }
}
