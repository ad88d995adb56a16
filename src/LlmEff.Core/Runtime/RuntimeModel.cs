using System.Runtime.CompilerServices;
using LlmEff.Core.Serialization;
using Microsoft.Extensions.Logging;

namespace LlmEff.Core;

/// <summary>
/// The paper's runtime model of one (model, software, hardware) triple (Eq. 3 and §3.5):
/// <c>t(p, o) = PE(p) + (o − 1)·g + overhead</c>, with <c>PE</c> piecewise linear in the prompt size <c>p</c>
/// and <c>g</c> the per-output-token time. Immutable and thread-safe.
/// </summary>
public sealed partial class RuntimeModel
{
    private static readonly IReadOnlyList<PromptSizeFit> NoFits = Array.Empty<PromptSizeFit>();
    private static readonly IReadOnlyList<SampleResidual> NoResiduals = Array.Empty<SampleResidual>();
    private static readonly IReadOnlyList<RuntimeFitWarning> NoWarnings = Array.Empty<RuntimeFitWarning>();

    internal RuntimeModel(
        PiecewiseLinearFunction promptEncoding,
        double perOutputTokenSeconds,
        double overheadSeconds,
        double rSquared,
        IReadOnlyList<PromptSizeFit>? promptSizeFits,
        IReadOnlyList<SampleResidual>? residuals,
        TrialAggregation? aggregation,
        RuntimeModelMetadata? metadata,
        double perOutputTokenContextSeconds = 0,
        PromptEncodingMode promptEncodingMode = PromptEncodingMode.Interpolate,
        IReadOnlyList<RuntimeFitWarning>? warnings = null,
        int contextKneeTokens = 0)
    {
        ContextKneeTokens = contextKneeTokens;
        PromptEncoding = promptEncoding;
        PerOutputTokenSeconds = perOutputTokenSeconds;
        PerOutputTokenContextSeconds = perOutputTokenContextSeconds;
        PromptEncodingMode = promptEncodingMode;
        OverheadSeconds = overheadSeconds;
        RSquared = rSquared;
        PromptSizeFits = promptSizeFits ?? NoFits;
        Residuals = residuals ?? NoResiduals;
        Aggregation = aggregation;
        Metadata = metadata ?? new RuntimeModelMetadata();
        Warnings = warnings ?? NoWarnings;
    }

    /// <summary><c>PE(p)</c>: prompt-encoding seconds as a piecewise-linear function of the prompt size in tokens.</summary>
    public PiecewiseLinearFunction PromptEncoding { get; }

    /// <summary><c>g</c>: seconds per output token after the first (<c>g0</c>, the cost at context 0, for <see cref="DecodeModel.ContextLinear"/>).</summary>
    public double PerOutputTokenSeconds { get; }

    /// <summary>
    /// <c>g1</c>: growth of the per-token time per token of context, in seconds (0 for the paper's constant-<c>g</c> model).
    /// Generating at context <c>i</c> costs <c>g + g1·i</c>.
    /// </summary>
    public double PerOutputTokenContextSeconds { get; }

    /// <summary>
    /// The decode model this instance follows: <see cref="DecodeModel.Constant"/> when <see cref="PerOutputTokenContextSeconds"/>
    /// is zero, else <see cref="DecodeModel.ContextHinge"/> when <see cref="ContextKneeTokens"/> is positive, else
    /// <see cref="DecodeModel.ContextLinear"/>.
    /// </summary>
    public DecodeModel Decode => PerOutputTokenContextSeconds == 0 ? DecodeModel.Constant : ContextKneeTokens > 0 ? DecodeModel.ContextHinge : DecodeModel.ContextLinear;

    /// <summary>
    /// <c>c0</c>: the context in tokens up to which the per-token time stays at <see cref="PerOutputTokenSeconds"/>
    /// (<see cref="DecodeModel.ContextHinge"/>); generating at context <c>i</c> costs <c>g0 + g1·max(0, i − c0)</c>.
    /// 0 for the constant and context-linear models.
    /// </summary>
    public int ContextKneeTokens { get; }

    /// <summary>How <c>PE(p)</c> is read off the knots: interpolation (default) or HELM's next-key scaling.</summary>
    public PromptEncodingMode PromptEncodingMode { get; }

    /// <summary>Fixed per-request overhead in seconds (§3.5); 0 unless fitted or given.</summary>
    public double OverheadSeconds { get; }

    /// <summary>Coefficient of determination of the whole model over the (aggregated) samples it was fitted on; NaN for a model built from given parameters.</summary>
    public double RSquared { get; }

    /// <summary>Per-prompt-size diagnostics of the first regression step (empty for a model built from given parameters).</summary>
    public IReadOnlyList<PromptSizeFit> PromptSizeFits { get; }

    /// <summary>Every (aggregated) sample the model was fitted on, against the model's prediction.</summary>
    public IReadOnlyList<SampleResidual> Residuals { get; }

    /// <summary>The trial aggregation used for fitting, or null for a model built from given parameters.</summary>
    public TrialAggregation? Aggregation { get; }

    /// <summary>Provenance: model, metric, hardware, software, source.</summary>
    public RuntimeModelMetadata Metadata { get; }

    /// <summary>
    /// Why this model is not physical (non-positive <c>g</c>, negative <c>PE</c> knot, negative prediction in the profiled
    /// range, R² below the threshold). Always empty unless the fit was kept with <see cref="RuntimeFitOptions.KeepNonPhysicalFit"/>
    /// (otherwise <see cref="Fit(IEnumerable{ProfilingSample}, RuntimeFitOptions?)"/> throws <see cref="RuntimeFitException"/>);
    /// show these to whoever uses the model.
    /// </summary>
    public IReadOnlyList<RuntimeFitWarning> Warnings { get; }

    /// <summary>True when this model came from <see cref="Fit(IEnumerable{ProfilingSample}, RuntimeFitOptions?)"/> rather than given parameters.</summary>
    public bool IsFitted => Aggregation is not null;

    /// <summary>The profiled prompt sizes (the knots of <see cref="PromptEncoding"/>).</summary>
    public IReadOnlyList<int> ProfiledPromptTokens => PromptEncoding.Knots.Select(k => (int)k.X).ToArray();

    /// <summary>
    /// Fits the model to profiling samples with the two-step procedure of §3.4: per prompt size, least squares
    /// of runtime on <c>o − 1</c> (the intercept is <c>PE(p)</c>); then one slope <c>g</c> through the origin
    /// of <c>runtime − PE(p)</c> on <c>o − 1</c> over all samples.
    /// </summary>
    /// <param name="samples">Measurements; every prompt size needs at least two distinct output lengths.</param>
    /// <param name="options">Fit options; <see cref="RuntimeFitOptions.Default"/> when null.</param>
    /// <exception cref="ArgumentException">No samples, invalid tokens or runtimes, or too few distinct output lengths.</exception>
    /// <exception cref="RuntimeFitException">
    /// The fitted model is not physical (see <see cref="RuntimeFitWarningKind"/>) and <see cref="RuntimeFitOptions.KeepNonPhysicalFit"/> is not set.
    /// </exception>
    public static RuntimeModel Fit(IEnumerable<ProfilingSample> samples, RuntimeFitOptions? options = null)
        => RuntimeModelFitter.Fit(samples, options ?? RuntimeFitOptions.Default, logger: null);

    /// <summary>As <see cref="Fit(IEnumerable{ProfilingSample}, RuntimeFitOptions?)"/>, also logging every finding (low R², negative PE or g) to <paramref name="logger"/>.</summary>
    public static RuntimeModel Fit(IEnumerable<ProfilingSample> samples, RuntimeFitOptions? options, ILogger? logger)
        => RuntimeModelFitter.Fit(samples, options ?? RuntimeFitOptions.Default, logger);

    /// <summary>Builds a model from known parameters, e.g. a published table.</summary>
    /// <param name="promptEncoding"><c>PE(p)</c> in seconds: knots at prompt sizes of 0 or more, values of 0 s or more.</param>
    /// <param name="perOutputTokenSeconds"><c>g</c> in seconds; finite and non-negative.</param>
    /// <param name="overheadSeconds">Fixed overhead in seconds; finite and non-negative.</param>
    /// <param name="metadata">Provenance.</param>
    /// <exception cref="ArgumentException">A parameter is not physical; the message names it and the fix.</exception>
    public static RuntimeModel Create(
        PiecewiseLinearFunction promptEncoding,
        double perOutputTokenSeconds,
        double overheadSeconds = 0,
        RuntimeModelMetadata? metadata = null)
    {
        RuntimeModelPhysics.ValidateParameters(promptEncoding, perOutputTokenSeconds, 0, overheadSeconds, PromptEncodingMode.Interpolate);
        return new RuntimeModel(promptEncoding, perOutputTokenSeconds, overheadSeconds, double.NaN, null, null, null, metadata);
    }

    /// <summary>Builds a model with every parameter: the context-growth term <c>g1</c> and HELM's PE mode included.</summary>
    /// <param name="promptEncoding"><c>PE</c> knots (prompt sizes of 0 or more; at 1 or more for <see cref="PromptEncodingMode.HelmNextKeyScaled"/>), values of 0 s or more.</param>
    /// <param name="perOutputTokenSeconds"><c>g</c> (or <c>g0</c>) in seconds; finite and non-negative.</param>
    /// <param name="perOutputTokenContextSeconds"><c>g1</c> in seconds per context token; finite, and with <c>g0 + g1·i</c> at 0 s or more at every context from the smallest to the largest knot.</param>
    /// <param name="overheadSeconds">Fixed overhead in seconds; finite and non-negative.</param>
    /// <param name="promptEncodingMode">How PE is read off the knots.</param>
    /// <param name="metadata">Provenance.</param>
    /// <exception cref="ArgumentException">A parameter is not physical; the message names it and the fix.</exception>
    public static RuntimeModel Create(
        PiecewiseLinearFunction promptEncoding,
        double perOutputTokenSeconds,
        double perOutputTokenContextSeconds,
        double overheadSeconds,
        PromptEncodingMode promptEncodingMode,
        RuntimeModelMetadata? metadata = null)
    {
        RuntimeModelPhysics.ValidateParameters(promptEncoding, perOutputTokenSeconds, perOutputTokenContextSeconds, overheadSeconds, promptEncodingMode);
        return RefuseNegativeDecode(new RuntimeModel(promptEncoding, perOutputTokenSeconds, overheadSeconds, double.NaN, null, null, null, metadata, perOutputTokenContextSeconds, promptEncodingMode));
    }

    /// <summary>Builds a flat-then-linear (<see cref="DecodeModel.ContextHinge"/>) model: generating at context <c>i</c> costs <c>g0 + g1·max(0, i − c0)</c>.</summary>
    /// <param name="promptEncoding"><c>PE</c> knots (prompt sizes of 0 or more), values of 0 s or more.</param>
    /// <param name="perOutputTokenSeconds"><c>g0</c> in seconds, the per-token time up to the knee; finite and non-negative.</param>
    /// <param name="perOutputTokenContextSeconds"><c>g1</c> in seconds per context token past the knee; finite, and with <c>g0 + g1·max(0, i − c0)</c> at 0 s or more at every context from the smallest to the largest knot.</param>
    /// <param name="contextKneeTokens"><c>c0</c>, the knee in tokens of context; 0 or more (0 is <see cref="DecodeModel.ContextLinear"/>).</param>
    /// <param name="overheadSeconds">Fixed overhead in seconds; finite and non-negative.</param>
    /// <param name="metadata">Provenance.</param>
    /// <exception cref="ArgumentException">A parameter is not physical; the message names it and the fix.</exception>
    public static RuntimeModel Create(
        PiecewiseLinearFunction promptEncoding,
        double perOutputTokenSeconds,
        double perOutputTokenContextSeconds,
        int contextKneeTokens,
        double overheadSeconds,
        RuntimeModelMetadata? metadata = null)
    {
        RuntimeModelPhysics.ValidateParameters(promptEncoding, perOutputTokenSeconds, perOutputTokenContextSeconds, overheadSeconds, PromptEncodingMode.Interpolate, contextKneeTokens: contextKneeTokens);
        return RefuseNegativeDecode(new RuntimeModel(promptEncoding, perOutputTokenSeconds, overheadSeconds, double.NaN, null, null, null, metadata, perOutputTokenContextSeconds, PromptEncodingMode.Interpolate, contextKneeTokens: contextKneeTokens));
    }

    // Each parameter valid alone, together a step that takes less than no time within the knots' contexts (a falling g1):
    // refused here in the words FromJson uses, so that every model Create returns can be written and read back.
    private static RuntimeModel RefuseNegativeDecode(RuntimeModel model)
        => RuntimeModelPhysics.FirstGivenProblem(model, new HashSet<RuntimeFitWarningKind>()) is { } problem
            ? throw new ArgumentOutOfRangeException(
                "perOutputTokenContextSeconds",
                model.PerOutputTokenContextSeconds,
                $"{problem.Message} A decode step cannot take less than no time: give a g1 that keeps g0 + g1·i at 0 s or more up to the largest PE knot, or 0 for the paper's constant-g model.")
            : model;

    /// <summary>Builds a model from <c>PE</c> knots given as (prompt tokens, seconds) pairs.</summary>
    public static RuntimeModel Create(
        IEnumerable<(int PromptTokens, double Seconds)> promptEncodingKnots,
        double perOutputTokenSeconds,
        double overheadSeconds = 0,
        RuntimeModelMetadata? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(promptEncodingKnots);
        var knots = promptEncodingKnots.Select(k =>
        {
            ArgumentOutOfRangeException.ThrowIfNegative(k.PromptTokens, nameof(promptEncodingKnots));
            return new PiecewiseLinearKnot(k.PromptTokens, k.Seconds);
        });
        return Create(new PiecewiseLinearFunction(knots), perOutputTokenSeconds, overheadSeconds, metadata);
    }

    /// <summary>Returns a copy with different provenance.</summary>
    public RuntimeModel WithMetadata(RuntimeModelMetadata metadata)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        return new RuntimeModel(PromptEncoding, PerOutputTokenSeconds, OverheadSeconds, RSquared, PromptSizeFits, Residuals, Aggregation, metadata, PerOutputTokenContextSeconds, PromptEncodingMode, Warnings, ContextKneeTokens);
    }

    internal RuntimeModel WithWarnings(IReadOnlyList<RuntimeFitWarning> warnings)
        => new(PromptEncoding, PerOutputTokenSeconds, OverheadSeconds, RSquared, PromptSizeFits, Residuals, Aggregation, Metadata, PerOutputTokenContextSeconds, PromptEncodingMode, warnings, ContextKneeTokens);

    /// <summary><c>PE(p)</c> in seconds: interpolated between profiled prompt sizes, extrapolated along the nearest segment outside them, never below 0.</summary>
    /// <param name="promptTokens">Prompt size in tokens; non-negative.</param>
    public double PromptEncodingSeconds(int promptTokens)
    {
        ThrowIfInvalidPrompt(promptTokens);
        return EvaluatePromptEncoding(promptTokens);
    }

    /// <summary>True when <paramref name="promptTokens"/> lies outside the profiled prompt sizes.</summary>
    public bool IsExtrapolated(int promptTokens) => PromptEncoding.IsExtrapolated(promptTokens);

    /// <summary>Predicted end-to-end runtime in seconds of a query with <paramref name="promptTokens"/> prompt tokens generating <paramref name="outputTokens"/> tokens; never negative.</summary>
    /// <param name="promptTokens">Prompt size <c>p</c>; non-negative.</param>
    /// <param name="outputTokens">Output tokens <c>o</c>; at least 1.</param>
    public double Predict(int promptTokens, int outputTokens)
    {
        ThrowIfInvalidPrompt(promptTokens);
        ThrowIfInvalidOutput(outputTokens);
        return Combine(EvaluatePromptEncoding(promptTokens), promptTokens, outputTokens);
    }

    /// <summary>The prediction broken into <c>PE(p)</c>, generation and overhead, with an extrapolation flag (the total is clamped at 0 as in <see cref="Predict"/>).</summary>
    public RuntimePrediction Explain(int promptTokens, int outputTokens)
    {
        var pe = PromptEncodingSeconds(promptTokens);
        ThrowIfInvalidOutput(outputTokens);
        return new RuntimePrediction(
            promptTokens,
            outputTokens,
            pe,
            DecodeSeconds(promptTokens, outputTokens),
            OverheadSeconds,
            Combine(pe, promptTokens, outputTokens),
            IsExtrapolated(promptTokens));
    }

    /// <summary>Serialises the model (parameters, diagnostics, provenance) to JSON in the versioned schema.</summary>
    public string ToJson() => RuntimeModelJson.Serialize(this);

    /// <summary>Reads a model written by <see cref="ToJson"/>, with the checks of <see cref="Create(PiecewiseLinearFunction, double, double, RuntimeModelMetadata?)"/>.</summary>
    /// <exception cref="InvalidDataException">
    /// Empty, truncated or foreign JSON, another schema version, a missing or mistyped field, or a value that is not physical; the message names the field and the fix.
    /// </exception>
    public static RuntimeModel FromJson(string json) => RuntimeModelJson.Deserialize(json);

    /// <inheritdoc />
    public override string ToString() => FormattableString.Invariant(
        $"{Metadata.ModelName ?? "RuntimeModel"}: PE = [{PromptEncoding}] s, g = {PerOutputTokenSeconds:G4} s/token, g1 = {PerOutputTokenContextSeconds:G4} s/token²{(ContextKneeTokens > 0 ? FormattableString.Invariant($" past a context of {ContextKneeTokens}") : string.Empty)}, overhead = {OverheadSeconds:G4} s, R² = {RSquared:F4}");

    // The batch path repeats these operations in this order, lane by lane, so both give identical bits. The clamp at 0
    // matters only for a model kept with KeepNonPhysicalFit (a negative g or g1): a runtime is never negative.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private double Combine(double promptEncodingSeconds, int promptTokens, int outputTokens)
    {
        double steps = outputTokens - 1;
        var contextSum = RuntimeModelFitter.ContextSum(promptTokens, outputTokens, ContextKneeTokens);
        return Math.Max(0.0, promptEncodingSeconds + (PerOutputTokenSeconds * steps) + (PerOutputTokenContextSeconds * contextSum) + OverheadSeconds);
    }

    private double DecodeSeconds(int promptTokens, int outputTokens)
    {
        double steps = outputTokens - 1;
        var contextSum = RuntimeModelFitter.ContextSum(promptTokens, outputTokens, ContextKneeTokens);
        return (PerOutputTokenSeconds * steps) + (PerOutputTokenContextSeconds * contextSum);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private double EvaluatePromptEncoding(int promptTokens)
        => PromptEncodingMode == PromptEncodingMode.Interpolate
            ? Math.Max(0.0, PromptEncoding.Evaluate(promptTokens))
            : Math.Max(0.0, HelmNextKeyScaled(promptTokens));

    private double HelmNextKeyScaled(int promptTokens)
    {
        var knots = PromptEncoding.Knots;
        foreach (var k in knots)
        {
            if (promptTokens <= k.X)
            {
                return k.Y * (promptTokens / k.X);
            }
        }

        var last = knots[^1];
        return last.Y * (promptTokens / last.X);
    }

    private static void ThrowIfInvalidPrompt(int promptTokens)
    {
        if (promptTokens < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(promptTokens), promptTokens, "A prompt size is a token count, 0 or more.");
        }
    }

    private static void ThrowIfInvalidOutput(int outputTokens)
    {
        if (outputTokens < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(outputTokens), outputTokens, "A query generates at least 1 output token (the first comes from prompt encoding); pass o >= 1.");
        }
    }
}
