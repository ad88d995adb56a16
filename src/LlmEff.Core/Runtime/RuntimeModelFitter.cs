using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace LlmEff.Core;

/// <summary>The two-step least-squares fit of §3.4 behind <see cref="RuntimeModel.Fit(IEnumerable{ProfilingSample}, RuntimeFitOptions?)"/>.</summary>
internal static partial class RuntimeModelFitter
{
    internal readonly record struct Point(int PromptTokens, int OutputTokens, double Seconds);

    internal readonly record struct Group(int Start, int End, int DistinctOutputs)
    {
        public int PromptTokens(Point[] points) => points[Start].PromptTokens;
    }

    public static RuntimeModel Fit(IEnumerable<ProfilingSample> samples, RuntimeFitOptions options, ILogger? logger, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(samples);
        options.Validate();
        logger ??= NullLogger.Instance;
        var points = Aggregate(Validate(samples), options.Aggregation);
        return RefuseOrKeep(FitPoints(points, options, cancellationToken), options, logger);
    }

    /// <summary>
    /// Applies the physicality rules to a model fitted for a caller: throws <see cref="RuntimeFitException"/> when it breaks
    /// one, unless the caller opted in with <see cref="RuntimeFitOptions.KeepNonPhysicalFit"/>, in which case the model
    /// carries the findings. Cross-validation folds and bootstrap replicates skip this: they fit subsets and noise on purpose.
    /// </summary>
    internal static RuntimeModel RefuseOrKeep(RuntimeModel model, RuntimeFitOptions options, ILogger? logger)
    {
        var findings = RuntimeModelPhysics.Check(model, options.RSquaredWarningThreshold);
        if (findings.Count == 0)
        {
            return model;
        }

        foreach (var f in findings)
        {
            logger?.LogWarning("Runtime fit: {Finding}", f.ToString());
        }

        model = model.WithWarnings(findings);
        return options.KeepNonPhysicalFit ? model : throw new RuntimeFitException(model, findings);
    }

    /// <summary>Fits already validated and aggregated points (sorted by p, then o); used by cross-validation too.</summary>
    internal static RuntimeModel FitPoints(Point[] points, RuntimeFitOptions options, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();

        var groups = GroupByPrompt(points, options);
        switch (options.Decode)
        {
            case DecodeModel.Constant:
            case DecodeModel.ContextLinear:
                return FitCore(points, groups, options.Decode, options, 0);
            case DecodeModel.ContextHinge:
                // A knee given (cross-validation folds and bootstrap replicates keep the one fitted on all samples), else searched.
                if (options.ContextKneeTokens > 0)
                {
                    return FitCore(points, groups, DecodeModel.ContextLinear, options, options.ContextKneeTokens);
                }

                // No knee with a rising slope: the straight context line, unless its slope falls with the context too, which
                // a step reading a growing KV cache cannot do (as Auto judges it): then the constant decode.
                if (FitHinge(points, groups, options, cancellationToken) is { } fitted)
                {
                    return fitted;
                }

                var line = FitCore(points, groups, DecodeModel.ContextLinear, options, 0);
                return line.PerOutputTokenContextSeconds > 0 ? line : FitCore(points, groups, DecodeModel.Constant, options, 0);
        }

        // Auto: both decode models, keep the one with the lower cross-validated error.
        var constant = FitCore(points, groups, DecodeModel.Constant, options, 0);
        if (groups.Count(g => g.DistinctOutputs >= options.MinimumDistinctOutputLengths) < 2)
        {
            return constant;
        }

        var context = FitCore(points, groups, DecodeModel.ContextLinear, options, 0);
        if (!(context.PerOutputTokenContextSeconds > 0))
        {
            // A step reads the KV cache, which only grows with the context: a slope that falls with it is the noise of a few
            // sweeps, and cross-validation over those same sweeps cannot be trusted to reject it.
            return constant;
        }

        var constantError = RuntimeCrossValidation.SelectionError(points, options with { Decode = DecodeModel.Constant }, cancellationToken);
        var contextError = RuntimeCrossValidation.SelectionError(points, options with { Decode = DecodeModel.ContextLinear }, cancellationToken);
        var chosen = contextError < constantError ? context : constant;
        if (!options.AutoConsidersHinge)
        {
            return chosen;
        }

        // The hinge (flat, then rising past a knee) replaces that choice when it predicts the swept configurations better.
        // SelectionError cannot judge it on an adaptive design: with two output lengths it falls back to leaving prompt
        // sizes out, whose error is the interpolation of PE at the single-output prompt sizes and moved by at most 0.06
        // percentage points between decode models on the Megatron designs (docs/benchmarks.md). Leaving each configuration out predicts every sweep's long query from the other sweeps' decode.
        var hinge = FitHinge(points, groups, options, cancellationToken);
        if (hinge is null)
        {
            return chosen;
        }

        var hingeError = RuntimeCrossValidation.ConfigurationError(points, options with { Decode = DecodeModel.ContextHinge, ContextKneeTokens = hinge.ContextKneeTokens }, cancellationToken);
        var chosenError = RuntimeCrossValidation.ConfigurationError(points, options with { Decode = chosen.Decode, ContextKneeTokens = 0 }, cancellationToken);
        return hingeError < chosenError ? hinge : chosen;
    }

    /// <summary>
    /// The hinge decode model with the knee that fits the samples best: least squares over every profiled prompt size strictly
    /// between the smallest and largest swept ones, among knees whose <c>g0</c> and <c>g1</c> come out positive (a step's time
    /// neither vanishes nor falls as the KV cache grows). Null when no knee qualifies.
    /// </summary>
    private static RuntimeModel? FitHinge(Point[] points, List<Group> groups, RuntimeFitOptions options, CancellationToken cancellationToken)
    {
        var swept = groups.Where(g => g.DistinctOutputs >= options.MinimumDistinctOutputLengths).Select(g => g.PromptTokens(points)).ToArray();
        if (swept.Length < 2)
        {
            // As ContextLinear: the context term needs sweeps at two or more prompt sizes (FitCore's message says so).
            return FitCore(points, groups, DecodeModel.ContextLinear, options, 0);
        }

        int lowest = swept.Min(), highest = swept.Max();
        RuntimeModel? best = null;
        var bestSquares = double.PositiveInfinity;
        foreach (var knee in points.Select(p => p.PromptTokens).Where(p => p > lowest && p < highest).Distinct())
        {
            cancellationToken.ThrowIfCancellationRequested();

            var model = FitCore(points, groups, DecodeModel.ContextLinear, options, knee);
            var squares = model.Residuals.Sum(r => r.ResidualSeconds * r.ResidualSeconds);
            if (!double.IsFinite(squares) || !(model.PerOutputTokenSeconds > 0) || !(model.PerOutputTokenContextSeconds > 0))
            {
                continue;
            }

            if (squares < bestSquares)
            {
                bestSquares = squares;
                best = model;
            }
        }

        return best;
    }

    private static RuntimeModel FitCore(Point[] points, List<Group> groups, DecodeModel decode, RuntimeFitOptions options, int knee)
    {
        var sweeps = groups.Where(g => g.DistinctOutputs >= options.MinimumDistinctOutputLengths).ToList();
        if (options.RobustLoss && sweeps.Count(g => g.DistinctOutputs >= 3) >= (decode == DecodeModel.ContextLinear ? 2 : 1))
        {
            // Two output lengths fix a line exactly, noise included; with enough longer sweeps such groups are pooled instead.
            sweeps = sweeps.Where(g => g.DistinctOutputs >= 3).ToList();
        }

        if (sweeps.Count == 0)
        {
            throw new ArgumentException(
                $"No prompt size was measured at {options.MinimumDistinctOutputLengths} or more distinct output lengths, so g cannot be fitted; sweep o (e.g. 1, 16, 64) at one or more prompt sizes.",
                "samples");
        }

        if (decode == DecodeModel.ContextLinear && sweeps.Count < 2)
        {
            throw new ArgumentException(
                $"DecodeModel.ContextLinear separates g0 from g1 through the context, so it needs output-length sweeps at two or more prompt sizes; only p = {sweeps[0].PromptTokens(points)} has one. Sweep another prompt size or use DecodeModel.Constant.",
                "samples");
        }

        // Step 1: per prompt size, runtime = PE(p) + slope_p·(o − 1). Step 2: the decode parameters from runtime − PE(p).
        var curvature = 0.0;
        var fits = new Dictionary<int, PromptSizeFit>();
        (double G0, double G1) decodeParameters = default;
        // With g1, a per-prompt line also absorbs g1·(o−1)(o−2)/2: later passes remove that curvature first, until g1 settles.
        var passes = decode == DecodeModel.ContextLinear ? 10 : 1;
        for (var pass = 0; pass < passes; pass++)
        {
            foreach (var g in sweeps)
            {
                fits[g.Start] = FitLine(points, g, curvature, options.RobustLoss, knee);
            }

            decodeParameters = FitDecode(points, sweeps, fits, decode, options.RobustLoss, knee);
            var settled = Math.Abs(decodeParameters.G1 - curvature) <= 1e-12 * Math.Abs(decodeParameters.G1);
            curvature = decodeParameters.G1;
            if (settled)
            {
                break;
            }
        }

        var (g0, g1) = decodeParameters;
        var allFits = new PromptSizeFit[groups.Count];
        for (var gi = 0; gi < groups.Count; gi++)
        {
            var g = groups[gi];
            allFits[gi] = fits.TryGetValue(g.Start, out var fit) ? fit : FitFromDecode(points, g, g0, g1, options.RobustLoss, knee);
        }

        var overhead = ResolveOverhead(allFits, options);
        var knots = allFits
            .Where(f => !(options.Overhead == OverheadMode.ZeroPromptAnchor && f.PromptTokens == 0))
            .Select(f => new PiecewiseLinearKnot(f.PromptTokens, f.InterceptSeconds - overhead))
            .ToList();
        var weights = allFits
            .Where(f => !(options.Overhead == OverheadMode.ZeroPromptAnchor && f.PromptTokens == 0))
            .Select(f => (double)f.SampleCount)
            .ToList();
        if (options.PromptEncodingShape == PromptEncodingShape.Monotone)
        {
            knots = PromptEncodingKnots.MakeMonotone(knots, weights);
        }

        // The anchor PE(0) = 0 is a knot of the model like any other, so it counts toward MaximumKnots; as the smallest prompt
        // size it is an end point and always kept.
        if (options.Overhead == OverheadMode.ZeroPromptAnchor)
        {
            knots.Add(new PiecewiseLinearKnot(0, 0.0));
        }

        if (options.MaximumKnots is { } maxKnots && knots.Count > maxKnots)
        {
            knots = PromptEncodingKnots.SelectWhereCurveBends(knots, maxKnots);
        }

        var pe = new PiecewiseLinearFunction(knots);
        var provisional = new RuntimeModel(pe, g0, overhead, double.NaN, allFits, null, options.Aggregation, options.Metadata, g1, contextKneeTokens: knee);
        var residuals = new SampleResidual[points.Length];
        var mean = points.Average(p => p.Seconds);
        double ssRes = 0, ssTot = 0;
        for (var i = 0; i < points.Length; i++)
        {
            var pt = points[i];
            var predicted = provisional.Predict(pt.PromptTokens, pt.OutputTokens);
            residuals[i] = new SampleResidual(pt.PromptTokens, pt.OutputTokens, pt.Seconds, predicted);
            ssRes += (pt.Seconds - predicted) * (pt.Seconds - predicted);
            ssTot += (pt.Seconds - mean) * (pt.Seconds - mean);
        }

        return new RuntimeModel(pe, g0, overhead, RSquared(ssRes, ssTot), allFits, residuals, options.Aggregation, options.Metadata, g1, contextKneeTokens: knee);
    }

    private static double ResolveOverhead(PromptSizeFit[] fits, RuntimeFitOptions options)
    {
        switch (options.Overhead)
        {
            case OverheadMode.Fixed:
                return options.FixedOverheadSeconds;
            case OverheadMode.ZeroPromptAnchor:
                var anchor = fits.FirstOrDefault(f => f.PromptTokens == 0)
                    ?? throw new ArgumentException(
                        "OverheadMode.ZeroPromptAnchor needs samples with PromptTokens = 0 (an empty prompt, where PE(0) = 0) to separate the overhead; profile p = 0 at two or more output lengths, or use OverheadMode.None to let PE absorb the overhead.",
                        "samples");
                if (fits.Length < 2)
                {
                    throw new ArgumentException("OverheadMode.ZeroPromptAnchor needs at least one prompt size besides p = 0.", "samples");
                }

                return Math.Max(0.0, anchor.InterceptSeconds);
            default:
                return 0.0;
        }
    }

    internal static double RSquared(double ssRes, double ssTot)
        => ssTot > 0 ? 1.0 - (ssRes / ssTot) : (ssRes <= 1e-30 ? 1.0 : 0.0);
}
