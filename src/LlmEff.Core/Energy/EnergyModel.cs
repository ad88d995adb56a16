using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace LlmEff.Core.Energy;

/// <summary>
/// Measured energy per query with the runtime model's shape, <c>E(p, o) = E_pe(p) + (o − 1)·e</c> in joules: prompt-encoding
/// joules by prompt size (piecewise linear through the profiled sizes) plus joules per output token, summed over
/// <see cref="AcceleratorCount"/> accelerators. It carries the powers measured around the run (idle and board power in
/// watts), the energy counter's resolution, and provenance. Fit it with <see cref="Fit"/> from samples with
/// <see cref="ProfilingSample.EnergyJoules"/>, or read it with <see cref="FromJson"/> / <see cref="EnergyModelJson.Load"/>.
/// </summary>
/// <remarks>Immutable; change the measured powers or provenance with a <c>with</c> expression.</remarks>
public sealed record EnergyModel
{
    private readonly int _acceleratorCount = 1;
    private readonly double? _idlePowerWatts;
    private readonly double? _boardPowerWatts;
    private readonly double? _counterResolutionJoules;
    private readonly double? _counterUpdateIntervalSeconds;
    private readonly EnergyModelMetadata _metadata = new();

    private EnergyModel(PiecewiseLinearFunction promptEncodingJoules, double perOutputTokenJoules, double rSquared, TrialAggregation? aggregation, IReadOnlyList<EnergyResidual> residuals)
    {
        PromptEncodingJoules = promptEncodingJoules;
        PerOutputTokenJoules = perOutputTokenJoules;
        RSquared = rSquared;
        Aggregation = aggregation;
        Residuals = residuals;
    }

    /// <summary><c>E_pe(p)</c>: joules to encode a prompt of p tokens (first output token included), by prompt size in tokens.</summary>
    public PiecewiseLinearFunction PromptEncodingJoules { get; }

    /// <summary><c>e</c>: joules per output token after the first.</summary>
    public double PerOutputTokenJoules { get; }

    /// <summary>Coefficient of determination of the fit over the aggregated points; NaN for a model built with <see cref="Create"/>.</summary>
    public double RSquared { get; }

    /// <summary>How trials were aggregated before the fit; null for a model built with <see cref="Create"/>.</summary>
    public TrialAggregation? Aggregation { get; }

    /// <summary>The aggregated points the model was fitted to, with its predictions; empty for a model built with <see cref="Create"/>.</summary>
    public IReadOnlyList<EnergyResidual> Residuals { get; }

    /// <summary>The prompt sizes (tokens) of <see cref="PromptEncodingJoules"/>'s knots.</summary>
    public IReadOnlyList<int> ProfiledPromptTokens => PromptEncodingJoules.Knots.Select(k => (int)k.X).ToArray();

    /// <summary>Accelerators whose energy every sample sums. Default 1; at least 1.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Less than 1.</exception>
    public int AcceleratorCount
    {
        get => _acceleratorCount;
        init => _acceleratorCount = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(AcceleratorCount), value, "Give the number of accelerators whose energy each sample sums: 1 or more.");
    }

    /// <summary>Power of one accelerator with nothing running, in watts, measured before the run; null when unknown.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Negative, NaN or infinite.</exception>
    public double? IdlePowerWatts
    {
        get => _idlePowerWatts;
        init => _idlePowerWatts = NonNegative(value, nameof(IdlePowerWatts), "watts");
    }

    /// <summary>
    /// The board power limit of one accelerator in watts, read while measuring: the power of the paper's idealized energy
    /// (runtime × accelerators × board power, §4.2); null when unknown.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Negative, NaN or infinite.</exception>
    public double? BoardPowerWatts
    {
        get => _boardPowerWatts;
        init => _boardPowerWatts = NonNegative(value, nameof(BoardPowerWatts), "watts");
    }

    /// <summary>The smallest energy step the counter reports, in joules (NVML counts millijoules: 0.001); null when unknown.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Negative, NaN or infinite.</exception>
    public double? CounterResolutionJoules
    {
        get => _counterResolutionJoules;
        init => _counterResolutionJoules = NonNegative(value, nameof(CounterResolutionJoules), "joules");
    }

    /// <summary>
    /// How often the energy counter updates, in seconds (about 0.1 s on H100s): queries much shorter than this are measured
    /// by repetition; null when unknown.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Negative, NaN or infinite.</exception>
    public double? CounterUpdateIntervalSeconds
    {
        get => _counterUpdateIntervalSeconds;
        init => _counterUpdateIntervalSeconds = NonNegative(value, nameof(CounterUpdateIntervalSeconds), "seconds");
    }

    /// <summary>Provenance: model, hardware, software, source and when it was measured. Default: all unknown.</summary>
    /// <exception cref="ArgumentNullException">Null.</exception>
    public EnergyModelMetadata Metadata
    {
        get => _metadata;
        init => _metadata = value ?? throw new ArgumentNullException(nameof(Metadata), "Pass new EnergyModelMetadata() when the provenance is unknown.");
    }

    /// <summary>
    /// Builds a model from known parameters (e.g. from a data sheet or another tool), with no fit statistics. Set the powers,
    /// accelerator count and provenance with a <c>with</c> expression.
    /// </summary>
    /// <param name="promptEncodingJoules">Knots of <c>E_pe(p)</c>: X is the prompt size in tokens (0 or more), Y the joules.</param>
    /// <param name="perOutputTokenJoules"><c>e</c>: joules per output token after the first; finite and 0 or more.</param>
    /// <exception cref="ArgumentException">No knots, a prompt size that is negative or not a whole number, energy below 0 J, or a non-finite or duplicate knot.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="perOutputTokenJoules"/> is negative or not finite.</exception>
    public static EnergyModel Create(IEnumerable<PiecewiseLinearKnot> promptEncodingJoules, double perOutputTokenJoules)
    {
        ArgumentNullException.ThrowIfNull(promptEncodingJoules);
        var knots = promptEncodingJoules.ToList();
        // Whole token counts only: the JSON form stores prompt sizes as integers, so a fractional knot would move on a round trip.
        if (knots.FindIndex(k => !(k.X >= 0 && k.X <= int.MaxValue && k.X == Math.Floor(k.X))) is var bad and >= 0)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"promptEncodingJoules[{bad}] is at prompt size {knots[bad].X}; prompt sizes are whole token counts, 0 or more."), nameof(promptEncodingJoules));
        }

        // Encoding a prompt takes energy: a knot below 0 J (as the fit refuses) would make queries cost nothing.
        if (knots.FindIndex(k => !(double.IsFinite(k.Y) && k.Y >= 0)) is var negative and >= 0)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"promptEncodingJoules[{negative}] (p = {knots[negative].X}) is {knots[negative].Y} J; encoding a prompt takes energy, so give knots of 0 J or more (re-fit if these came from a fit)."), nameof(promptEncodingJoules));
        }

        if (!double.IsFinite(perOutputTokenJoules) || perOutputTokenJoules < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(perOutputTokenJoules), perOutputTokenJoules, "Joules per output token are a finite number, 0 or more.");
        }

        return new EnergyModel(new PiecewiseLinearFunction(knots), perOutputTokenJoules, double.NaN, null, []);
    }

    /// <summary>
    /// Fits <c>E(p, o) = E_pe(p) + (o − 1)·e</c> with the runtime model's two-step regression (§3.4): per prompt size a line
    /// over the output lengths, whose intercepts are the <c>E_pe</c> knots, then <c>e</c> from all sizes at once. Every sample
    /// needs <see cref="ProfilingSample.EnergyJoules"/>: samples without it are refused rather than skipped, so a mix cannot
    /// bias the fit silently (filter with <c>s =&gt; s.EnergyJoules is not null</c>). Set the measured powers and provenance
    /// on the result with a <c>with</c> expression.
    /// </summary>
    /// <param name="samples">Samples with measured energy; each prompt size swept over 2 or more output lengths.</param>
    /// <param name="options">Fit options; null for <see cref="EnergyFitOptions.Default"/>.</param>
    /// <param name="logger">Receives a warning when R² is below <see cref="EnergyFitOptions.RSquaredWarningThreshold"/>; null for none.</param>
    /// <exception cref="ArgumentException">A sample lacks energy or has a zero, negative, NaN or infinite energy; the samples cannot be fitted; the fitted energy per output token is negative; or the energies give a mean decode power above 10,000 W, as millijoules passed for joules do (the message says which and how to fix it).</exception>
    public static EnergyModel Fit(IEnumerable<ProfilingSample> samples, EnergyFitOptions? options = null, ILogger<EnergyModel>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(samples);
        options ??= EnergyFitOptions.Default;
        options.Validate();
        ILogger log = (ILogger?)logger ?? NullLogger<EnergyModel>.Instance;
        var list = samples.ToList();
        for (var i = 0; i < list.Count; i++)
        {
            var s = list[i] ?? throw new ArgumentException($"samples[{i}] is null; remove null entries.", nameof(samples));
            if (s.EnergyJoules is not { } joules)
            {
                throw new ArgumentException($"samples[{i}] (p = {s.PromptTokens}, o = {s.OutputTokens}) has no EnergyJoules; fit energy only on samples whose energy was measured (filter with s => s.EnergyJoules is not null).", nameof(samples));
            }

            if (!double.IsFinite(joules) || joules <= 0)
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"samples[{i}] (p = {s.PromptTokens}, o = {s.OutputTokens}) has EnergyJoules = {joules}; energies must be finite and positive: drop failed or unmeasured queries before fitting."), nameof(samples));
            }
        }

        // The runtime fitter's regression is unit-agnostic: it is reused on joules in place of seconds. The decode model is the
        // paper's constant one, since the counter's resolution cannot separate a per-context term in e.
        var fitOptions = new RuntimeFitOptions
        {
            Aggregation = options.Aggregation,
            PromptEncodingShape = options.PromptEncodingShape,
            MinimumDistinctOutputLengths = options.MinimumDistinctOutputLengths,
            AllowSingleOutputLength = options.AllowSingleOutputLength,
            Decode = DecodeModel.Constant,
            Overhead = OverheadMode.None,

            // The runtime model's physicality rules speak of seconds; the checks below say the same of joules.
            KeepNonPhysicalFit = true,
        };
        var fitted = RuntimeModelFitter.Fit(list.Select(s => s with { RuntimeSeconds = s.EnergyJoules!.Value }), fitOptions, NullLogger.Instance);
        var residuals = fitted.Residuals.Select(r => new EnergyResidual(r.PromptTokens, r.OutputTokens, r.ObservedSeconds, Math.Max(0, r.PredictedSeconds))).ToArray();
        if (!(fitted.PerOutputTokenSeconds >= 0))
        {
            // A token cannot give energy back: a negative slope means the energies are noisier than a token's energy.
            throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"The fitted energy per output token is {fitted.PerOutputTokenSeconds:G3} J, below 0: the measured energies are noisier than one token's energy. Measure longer outputs (e.g. o up to 32 or more), more trials, or on an idle device."),
                nameof(samples));
        }

        if (fitted.PromptEncoding.Knots.Where(k => k.Y < 0).Take(1).ToArray() is [var negative])
        {
            throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"The fitted prompt-encoding energy at p = {negative.X} is {negative.Y:G3} J, below 0: the measured energies are noisier than a prompt's energy. Measure more trials, longer prompts, or on an idle device."),
                nameof(samples));
        }

        CheckDecodePower(list, fitted.PerOutputTokenSeconds, fitOptions);
        var model = new EnergyModel(fitted.PromptEncoding, fitted.PerOutputTokenSeconds, fitted.RSquared, options.Aggregation, residuals);
        if (model.RSquared < options.RSquaredWarningThreshold)
        {
            log.LogWarning("Energy fit R² = {RSquared:F4} is below {Threshold}: the energies are noisy (counter quantisation, a busy device); measure longer queries or more trials.", model.RSquared, options.RSquaredWarningThreshold);
        }

        return model;
    }

    /// <summary>
    /// Mean decode power, in watts, above which a fit is refused: no accelerator's board draws this much, while energies in
    /// NVML's raw millijoules come out a thousand times too high (300 kW for a 300 W GPU). A whole 8-GPU node at 700 W
    /// still passes.
    /// </summary>
    internal const double MaximumPlausibleDecodePowerWatts = 10_000;

    /// <summary>Refuses energies whose decode power (<c>e / g</c>, g fitted from the same samples' runtimes) no hardware draws.</summary>
    private static void CheckDecodePower(List<ProfilingSample> samples, double perOutputTokenJoules, RuntimeFitOptions fitOptions)
    {
        if (!(perOutputTokenJoules > 0))
        {
            return;
        }

        var g = RuntimeModelFitter.Fit(samples, fitOptions, NullLogger.Instance).PerOutputTokenSeconds;
        // A g of 0 or less is the runtime fit's problem, reported there; it gives no power to judge.
        if (g > 0 && perOutputTokenJoules / g > MaximumPlausibleDecodePowerWatts)
        {
            throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"The samples' energies give a mean decode power of {perOutputTokenJoules / g:F0} W (e = {perOutputTokenJoules:G4} J per output token at g = {g * 1e3:G4} ms), above what any accelerator, or a node of eight, draws ({MaximumPlausibleDecodePowerWatts:N0} W): EnergyJoules (a samples CSV's energy_joules) must be in joules, and NVML reports millijoules, so divide the energies by 1,000."),
                nameof(samples));
        }
    }

    /// <summary>A copy with the fit statistics read back from JSON.</summary>
    internal EnergyModel Restore(double rSquared, TrialAggregation? aggregation, IReadOnlyList<EnergyResidual> residuals)
        => new(PromptEncodingJoules, PerOutputTokenJoules, rSquared, aggregation, residuals);

    /// <summary>Reads a model from its JSON form (<see cref="EnergyModelJson"/>).</summary>
    /// <exception cref="InvalidDataException">Not JSON, another kind or schema version (the message says which and what was expected), or malformed.</exception>
    public static EnergyModel FromJson(string json) => EnergyModelJson.Deserialize(json);

    /// <summary>This model's JSON form (<see cref="EnergyModelJson"/>), indented.</summary>
    public string ToJson() => EnergyModelJson.Serialize(this);

    /// <summary><c>E_pe(p)</c>: joules to encode a prompt of <paramref name="promptTokens"/> tokens, never negative.</summary>
    /// <param name="promptTokens">Prompt size in tokens; 0 or more.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="promptTokens"/> is negative.</exception>
    public double PredictPromptEncodingJoules(int promptTokens)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(promptTokens);
        return Math.Max(0, PromptEncodingJoules.Evaluate(promptTokens));
    }

    /// <summary>Predicted energy of one query in joules, summed over the accelerators; never negative.</summary>
    /// <param name="promptTokens">Prompt size in tokens; 0 or more.</param>
    /// <param name="outputTokens">Generated tokens; 1 or more.</param>
    /// <exception cref="ArgumentOutOfRangeException">A negative prompt size or fewer than 1 output token.</exception>
    public double PredictJoules(int promptTokens, int outputTokens)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(promptTokens);
        ArgumentOutOfRangeException.ThrowIfLessThan(outputTokens, 1);
        // Extrapolating a fitted line below the profiled sizes can cross zero; energy cannot.
        return Math.Max(0, PromptEncodingJoules.Evaluate(promptTokens) + ((outputTokens - 1) * PerOutputTokenJoules));
    }

    /// <summary>Total predicted energy of a batch of queries in joules.</summary>
    /// <param name="promptTokens">Prompt sizes in tokens.</param>
    /// <param name="outputTokens">Generated tokens, one per prompt size.</param>
    /// <exception cref="ArgumentException">The spans differ in length.</exception>
    public double PredictTotalJoules(ReadOnlySpan<int> promptTokens, ReadOnlySpan<int> outputTokens)
    {
        if (promptTokens.Length != outputTokens.Length)
        {
            throw new ArgumentException($"promptTokens has {promptTokens.Length} entries but outputTokens has {outputTokens.Length}; pass one output length per prompt.", nameof(outputTokens));
        }

        var total = 0.0;
        for (var i = 0; i < promptTokens.Length; i++)
        {
            total += PredictJoules(promptTokens[i], outputTokens[i]);
        }

        return total;
    }

    /// <summary>
    /// The query's predicted energy split into idle (idle power × <paramref name="runtimeSeconds"/> × accelerators) and
    /// dynamic (the rest, never below 0). Idle and dynamic are null when <see cref="IdlePowerWatts"/> is unknown.
    /// </summary>
    /// <param name="promptTokens">Prompt size in tokens; 0 or more.</param>
    /// <param name="outputTokens">Generated tokens; 1 or more.</param>
    /// <param name="runtimeSeconds">The query's runtime in seconds (e.g. a runtime model's prediction); finite, 0 or more.</param>
    /// <exception cref="ArgumentOutOfRangeException">A negative prompt size, fewer than 1 output token, or a negative or non-finite runtime.</exception>
    public EnergyPrediction Split(int promptTokens, int outputTokens, double runtimeSeconds)
    {
        if (!double.IsFinite(runtimeSeconds) || runtimeSeconds < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(runtimeSeconds), runtimeSeconds, "Pass the query's runtime in seconds: finite, 0 or more (e.g. RuntimeModel.Predict(p, o)).");
        }

        var total = PredictJoules(promptTokens, outputTokens);
        if (IdlePowerWatts is not { } idle)
        {
            return new EnergyPrediction(total, null, null);
        }

        var idleJoules = idle * runtimeSeconds * AcceleratorCount;
        return new EnergyPrediction(total, idleJoules, Math.Max(0, total - idleJoules));
    }

    /// <summary>
    /// The paper's idealized energy of a query that runs <paramref name="runtimeSeconds"/>: runtime × accelerators × board
    /// power (§4.2), in joules; null when <see cref="BoardPowerWatts"/> is unknown. Divide by <see cref="PredictJoules"/> to
    /// see how loose that upper bound is.
    /// </summary>
    /// <param name="runtimeSeconds">Runtime in seconds; finite, 0 or more.</param>
    /// <exception cref="ArgumentOutOfRangeException">A negative or non-finite runtime.</exception>
    public double? IdealizedJoules(double runtimeSeconds)
    {
        if (!double.IsFinite(runtimeSeconds) || runtimeSeconds < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(runtimeSeconds), runtimeSeconds, "Pass a runtime in seconds: finite, 0 or more.");
        }

        return BoardPowerWatts * runtimeSeconds * AcceleratorCount;
    }

    /// <summary>Mean power of one accelerator while generating, in watts: <c>e / g / accelerators</c>.</summary>
    /// <param name="perOutputTokenSeconds"><c>g</c>: the runtime model's seconds per output token; finite and positive.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="perOutputTokenSeconds"/> is not finite and positive.</exception>
    public double DecodePowerWatts(double perOutputTokenSeconds)
    {
        if (!double.IsFinite(perOutputTokenSeconds) || perOutputTokenSeconds <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(perOutputTokenSeconds), perOutputTokenSeconds, "Pass g in seconds per output token, finite and positive (RuntimeModel.PerOutputTokenSeconds).");
        }

        return PerOutputTokenJoules / perOutputTokenSeconds / AcceleratorCount;
    }

    /// <summary>A one-line summary with units.</summary>
    public override string ToString() => string.Create(
        CultureInfo.InvariantCulture,
        $"E_pe = [{string.Join(", ", PromptEncodingJoules.Knots.Select(k => string.Create(CultureInfo.InvariantCulture, $"{k.X:G6}: {k.Y:G6} J")))}], e = {PerOutputTokenJoules:G6} J/token, {AcceleratorCount} accelerator(s), R² = {RSquared:F4}");

    private static double? NonNegative(double? value, string name, string unit)
        => value is { } v && (!double.IsFinite(v) || v < 0)
            ? throw new ArgumentOutOfRangeException(name, v, $"{name} is a finite number of {unit}, 0 or more; pass null when it is unknown.")
            : value;
}
