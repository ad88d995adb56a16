namespace LlmEff.Core;

/// <summary>Options for <see cref="RuntimeModel.Fit(IEnumerable{ProfilingSample}, RuntimeFitOptions?)"/>. Defaults follow the paper.</summary>
public sealed record RuntimeFitOptions
{
    /// <summary>Shared default instance.</summary>
    public static RuntimeFitOptions Default { get; } = new();

    /// <summary>
    /// How trials of one <c>(p, o)</c> are combined. Default <see cref="TrialAggregation.Minimum"/>, the paper's
    /// denoising estimator (§4.1); on dedicated hardware it differs from the mean only by the noise.
    /// </summary>
    public TrialAggregation Aggregation { get; init; } = TrialAggregation.Minimum;

    /// <summary>How a black-box API's fixed overhead is handled (§3.5). Default <see cref="OverheadMode.None"/>.</summary>
    public OverheadMode Overhead { get; init; } = OverheadMode.None;

    /// <summary>The overhead in seconds used with <see cref="OverheadMode.Fixed"/>. Default 0; a positive value with another mode is refused when fitting.</summary>
    public double FixedOverheadSeconds { get; init; }

    /// <summary>
    /// Overall R² below which the fit is not trusted: <see cref="RuntimeModel.Fit(IEnumerable{ProfilingSample}, RuntimeFitOptions?)"/>
    /// throws <see cref="RuntimeFitException"/> (or, with <see cref="KeepNonPhysicalFit"/>, returns the model with a
    /// <see cref="RuntimeFitWarningKind.LowRSquared"/> warning). Default 0.99: the paper saw R² &gt; 0.999 on dedicated
    /// hardware (§3.2) and 0.917–0.997 through black-box APIs (Table 2), so anything lower deserves a look; lower it
    /// deliberately for noisy black-box endpoints.
    /// </summary>
    public double RSquaredWarningThreshold { get; init; } = 0.99;

    /// <summary>Distinct output lengths required per prompt size for its regression. Default 2, the minimum for a line.</summary>
    public int MinimumDistinctOutputLengths { get; init; } = 2;

    /// <summary>
    /// Decode model: <see cref="DecodeModel.Constant"/> (default, the paper's Eq. 3), <see cref="DecodeModel.ContextLinear"/>
    /// (per-token time grows with context, Appendix A), <see cref="DecodeModel.ContextHinge"/> (flat, then growing past a
    /// fitted knee) or <see cref="DecodeModel.Auto"/> (the lower cross-validated error).
    /// </summary>
    public DecodeModel Decode { get; init; } = DecodeModel.Constant;

    /// <summary>Shape constraint on <c>PE</c>. Default <see cref="PromptEncodingShape.Interpolate"/> (the paper).</summary>
    public PromptEncodingShape PromptEncodingShape { get; init; } = PromptEncodingShape.Interpolate;

    /// <summary>
    /// When set, keep at most this many <c>PE</c> knots, placed where the curve bends: starting from the end points, the
    /// knot the current interpolant misses by most is added until the count is reached. The count is of the model's knots:
    /// with <see cref="OverheadMode.ZeroPromptAnchor"/> the anchor <c>PE(0) = 0</c> is one of them (always kept, as the
    /// smallest prompt size). Null (default) keeps every profiled prompt size. Useful with dense, noisy prompt sweeps.
    /// </summary>
    public int? MaximumKnots { get; init; }

    /// <summary>
    /// Allow prompt sizes measured at a single output length. Their <c>PE(p)</c> is the runtime minus the decode time
    /// fitted from the prompt sizes that do have a sweep (at least one is required). Default false: the paper's
    /// procedure needs a line per prompt size, and a lone output length is usually a mistake. Adaptive profiling sets it,
    /// because <c>o = 1</c> measures <c>PE(p)</c> directly at the cost of one short query.
    /// </summary>
    public bool AllowSingleOutputLength { get; init; }

    /// <summary>
    /// Keep a fit that is not physical (non-positive <c>g</c> or <c>g0</c>, a negative <c>PE</c> knot, a negative
    /// prediction in the profiled range, R² below <see cref="RSquaredWarningThreshold"/>) instead of throwing
    /// <see cref="RuntimeFitException"/>; the model then lists what is wrong in <see cref="RuntimeModel.Warnings"/>.
    /// Default false. Set it where fitting noise is the point (accuracy studies on small designs) or where the caller
    /// shows the warnings to a person.
    /// </summary>
    public bool KeepNonPhysicalFit { get; init; }

    /// <summary>
    /// Fit with a robust loss, so that one unlucky measurement does not move a knot or the decode slope. Default false
    /// (the paper's least squares). When set: each per-prompt line and the decode regression are Huber-weighted
    /// (iteratively reweighted least squares; residuals beyond 1.345 robust standard deviations weigh less), a prompt
    /// size needs three distinct output lengths to get its own line (with two, the short ones are pooled as below;
    /// if no prompt size has three, two suffice as before), and a prompt size without its own line gets <c>PE(p)</c> from
    /// its short queries (output lengths up to four times its smallest) after the fitted decode time, pooled by a Huber mean,
    /// so a repeat or a neighbouring output length averages the noise out of the knot instead of being ignored.
    /// </summary>
    public bool RobustLoss { get; init; }

    /// <summary>Provenance stored on the fitted model.</summary>
    public RuntimeModelMetadata? Metadata { get; init; }

    /// <summary>The knee of <see cref="DecodeModel.ContextHinge"/> held fixed (cross-validation folds, bootstrap replicates); 0 searches it.</summary>
    internal int ContextKneeTokens { get; init; }

    /// <summary>Whether <see cref="DecodeModel.Auto"/> offers <see cref="DecodeModel.ContextHinge"/>; off only to measure the fit without it (the accuracy harness).</summary>
    internal bool AutoConsidersHinge { get; init; } = true;

    internal void Validate()
    {
        if (!Enum.IsDefined(Aggregation))
        {
            throw new ArgumentOutOfRangeException(nameof(Aggregation), Aggregation, "Unknown TrialAggregation; use Minimum, Mean, Median or All.");
        }

        if (!Enum.IsDefined(Overhead))
        {
            throw new ArgumentOutOfRangeException(nameof(Overhead), Overhead, "Unknown OverheadMode; use None, ZeroPromptAnchor or Fixed.");
        }

        if (!double.IsFinite(FixedOverheadSeconds) || FixedOverheadSeconds < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(FixedOverheadSeconds), FixedOverheadSeconds, "FixedOverheadSeconds must be a finite, non-negative number of seconds.");
        }

        if (FixedOverheadSeconds > 0 && Overhead != OverheadMode.Fixed)
        {
            // The value is used only with Fixed: ignoring it would fit a model without the overhead the caller gave.
            throw new ArgumentException($"FixedOverheadSeconds = {FixedOverheadSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)} is used only with Overhead = OverheadMode.Fixed, but Overhead is {Overhead}; set Overhead = OverheadMode.Fixed, or leave FixedOverheadSeconds at 0.", nameof(FixedOverheadSeconds));
        }

        if (!Enum.IsDefined(Decode))
        {
            throw new ArgumentOutOfRangeException(nameof(Decode), Decode, "Unknown DecodeModel; use Constant, ContextLinear, ContextHinge or Auto.");
        }

        if (!Enum.IsDefined(PromptEncodingShape))
        {
            throw new ArgumentOutOfRangeException(nameof(PromptEncodingShape), PromptEncodingShape, "Unknown PromptEncodingShape; use Interpolate or Monotone.");
        }

        if (MaximumKnots is < 2)
        {
            throw new ArgumentOutOfRangeException(nameof(MaximumKnots), MaximumKnots, "Keep at least 2 knots (the end points), or leave MaximumKnots null to keep all.");
        }

        if (double.IsNaN(RSquaredWarningThreshold) || RSquaredWarningThreshold > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(RSquaredWarningThreshold), RSquaredWarningThreshold, "RSquaredWarningThreshold is an R² of at most 1 (default 0.99); pass a lower value, or double.NegativeInfinity to accept any R².");
        }

        if (MinimumDistinctOutputLengths < 2)
        {
            throw new ArgumentOutOfRangeException(nameof(MinimumDistinctOutputLengths), MinimumDistinctOutputLengths, "A line needs at least 2 distinct output lengths; set MinimumDistinctOutputLengths to 2 or more.");
        }
    }
}
