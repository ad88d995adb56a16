using System.Globalization;
using MathNet.Numerics.LinearAlgebra;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace LlmEff.Core;

/// <summary>The two-step least-squares fit of §3.4 behind <see cref="RuntimeModel.Fit(IEnumerable{ProfilingSample}, RuntimeFitOptions?)"/>.</summary>
internal static class RuntimeModelFitter
{
    internal readonly record struct Point(int PromptTokens, int OutputTokens, double Seconds);

    public static RuntimeModel Fit(IEnumerable<ProfilingSample> samples, RuntimeFitOptions options, ILogger? logger)
    {
        ArgumentNullException.ThrowIfNull(samples);
        options.Validate();
        logger ??= NullLogger.Instance;

        var points = Aggregate(Validate(samples), options.Aggregation);
        var groups = GroupByPrompt(points, options.MinimumDistinctOutputLengths);

        // Step 1: per prompt size, runtime = PE(p) + slope_p·(o − 1).
        var fits = new PromptSizeFit[groups.Count];
        for (var gi = 0; gi < groups.Count; gi++)
        {
            fits[gi] = FitLine(points, groups[gi]);
        }

        // Step 2: one g through the origin of (runtime − PE(p)) on (o − 1) over all points.
        var g = FitCommonSlope(points, groups, fits);

        var overhead = ResolveOverhead(fits, options);
        var knots = fits
            .Where(f => !(options.Overhead == OverheadMode.ZeroPromptAnchor && f.PromptTokens == 0))
            .Select(f => new PiecewiseLinearKnot(f.PromptTokens, f.InterceptSeconds - overhead))
            .ToList();
        if (options.Overhead == OverheadMode.ZeroPromptAnchor)
        {
            knots.Add(new PiecewiseLinearKnot(0, 0.0));
        }

        var pe = new PiecewiseLinearFunction(knots);
        var provisional = new RuntimeModel(pe, g, overhead, double.NaN, fits, null, options.Aggregation, options.Metadata);
        var residuals = new SampleResidual[points.Length];
        double ssRes = 0, mean = 0;
        foreach (var p in points)
        {
            mean += p.Seconds;
        }

        mean /= points.Length;
        double ssTot = 0;
        for (var i = 0; i < points.Length; i++)
        {
            var pt = points[i];
            var predicted = provisional.Predict(pt.PromptTokens, pt.OutputTokens);
            residuals[i] = new SampleResidual(pt.PromptTokens, pt.OutputTokens, pt.Seconds, predicted);
            ssRes += (pt.Seconds - predicted) * (pt.Seconds - predicted);
            ssTot += (pt.Seconds - mean) * (pt.Seconds - mean);
        }

        var r2 = RSquared(ssRes, ssTot);
        var model = new RuntimeModel(pe, g, overhead, r2, fits, residuals, options.Aggregation, options.Metadata);
        Warn(model, options, logger);
        return model;
    }

    private static List<Point> Validate(IEnumerable<ProfilingSample> samples)
    {
        var list = new List<Point>(samples is ICollection<ProfilingSample> c ? c.Count : 16);
        var index = 0;
        foreach (var s in samples)
        {
            if (s is null)
            {
                throw new ArgumentException($"samples[{index}] is null; remove null entries.", nameof(samples));
            }

            if (s.PromptTokens < 0)
            {
                throw new ArgumentException($"samples[{index}] has PromptTokens = {s.PromptTokens}; prompt sizes are token counts, 0 or more.", nameof(samples));
            }

            if (s.OutputTokens < 1)
            {
                throw new ArgumentException($"samples[{index}] has OutputTokens = {s.OutputTokens}; every query generates at least 1 token, so measure o >= 1.", nameof(samples));
            }

            if (!double.IsFinite(s.RuntimeSeconds) || s.RuntimeSeconds <= 0)
            {
                throw new ArgumentException(
                    string.Create(CultureInfo.InvariantCulture, $"samples[{index}] (p = {s.PromptTokens}, o = {s.OutputTokens}) has RuntimeSeconds = {s.RuntimeSeconds}; runtimes must be finite and positive: drop failed or unmeasured queries before fitting."),
                    nameof(samples));
            }

            list.Add(new Point(s.PromptTokens, s.OutputTokens, s.RuntimeSeconds));
            index++;
        }

        if (list.Count == 0)
        {
            throw new ArgumentException("No samples to fit; profile each prompt size at two or more output lengths (e.g. the paper's P = {1, 256, 512, 1024, 1536} with o from 1 to 64).", nameof(samples));
        }

        return list;
    }

    internal static Point[] Aggregate(List<Point> points, TrialAggregation aggregation)
    {
        points.Sort(static (a, b) => a.PromptTokens != b.PromptTokens
            ? a.PromptTokens.CompareTo(b.PromptTokens)
            : a.OutputTokens != b.OutputTokens ? a.OutputTokens.CompareTo(b.OutputTokens) : a.Seconds.CompareTo(b.Seconds));
        if (aggregation == TrialAggregation.All)
        {
            return points.ToArray();
        }

        var result = new List<Point>(points.Count);
        var start = 0;
        while (start < points.Count)
        {
            var end = start + 1;
            while (end < points.Count && points[end].PromptTokens == points[start].PromptTokens && points[end].OutputTokens == points[start].OutputTokens)
            {
                end++;
            }

            var n = end - start;
            double value;
            switch (aggregation)
            {
                case TrialAggregation.Minimum:
                    value = points[start].Seconds; // sorted ascending within (p, o)
                    break;
                case TrialAggregation.Median:
                    value = n % 2 == 1 ? points[start + (n / 2)].Seconds : 0.5 * (points[start + (n / 2) - 1].Seconds + points[start + (n / 2)].Seconds);
                    break;
                default:
                    double sum = 0;
                    for (var i = start; i < end; i++)
                    {
                        sum += points[i].Seconds;
                    }

                    value = sum / n;
                    break;
            }

            result.Add(points[start] with { Seconds = value });
            start = end;
        }

        return result.ToArray();
    }

    private static List<Range> GroupByPrompt(Point[] points, int minimumDistinct)
    {
        var groups = new List<Range>();
        var lacking = new List<string>();
        var start = 0;
        while (start < points.Length)
        {
            var end = start + 1;
            var distinct = 1;
            while (end < points.Length && points[end].PromptTokens == points[start].PromptTokens)
            {
                if (points[end].OutputTokens != points[end - 1].OutputTokens)
                {
                    distinct++;
                }

                end++;
            }

            if (distinct < minimumDistinct)
            {
                lacking.Add($"p = {points[start].PromptTokens} ({distinct} distinct)");
            }

            groups.Add(new Range(start, end));
            start = end;
        }

        if (lacking.Count > 0)
        {
            throw new ArgumentException(
                $"Each prompt size needs at least {minimumDistinct} distinct output lengths to fit a line, but {string.Join(", ", lacking)} fall short; profile more output lengths there (e.g. o = 1, 16, 64) or drop those prompt sizes.",
                "samples");
        }

        return groups;
    }

    private static PromptSizeFit FitLine(Point[] points, Range range)
    {
        var (offset, n) = range.GetOffsetAndLength(points.Length);
        var design = Matrix<double>.Build.Dense(n, 2);
        var y = Vector<double>.Build.Dense(n);
        var distinct = 0;
        for (var i = 0; i < n; i++)
        {
            var pt = points[offset + i];
            design[i, 0] = 1.0;
            design[i, 1] = pt.OutputTokens - 1;
            y[i] = pt.Seconds;
            if (i == 0 || pt.OutputTokens != points[offset + i - 1].OutputTokens)
            {
                distinct++;
            }
        }

        var beta = design.QR().Solve(y);
        var fitted = design * beta;
        var residuals = new SampleResidual[n];
        var mean = y.Average();
        double ssRes = 0, ssTot = 0;
        for (var i = 0; i < n; i++)
        {
            var pt = points[offset + i];
            residuals[i] = new SampleResidual(pt.PromptTokens, pt.OutputTokens, pt.Seconds, fitted[i]);
            ssRes += (y[i] - fitted[i]) * (y[i] - fitted[i]);
            ssTot += (y[i] - mean) * (y[i] - mean);
        }

        return new PromptSizeFit(points[offset].PromptTokens, beta[0], beta[1], RSquared(ssRes, ssTot), n, distinct, residuals);
    }

    private static double FitCommonSlope(Point[] points, List<Range> groups, PromptSizeFit[] fits)
    {
        var x = Matrix<double>.Build.Dense(points.Length, 1);
        var y = Vector<double>.Build.Dense(points.Length);
        for (var gi = 0; gi < groups.Count; gi++)
        {
            var (offset, n) = groups[gi].GetOffsetAndLength(points.Length);
            for (var i = offset; i < offset + n; i++)
            {
                x[i, 0] = points[i].OutputTokens - 1;
                y[i] = points[i].Seconds - fits[gi].InterceptSeconds;
            }
        }

        return x.QR().Solve(y)[0];
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

    private static void Warn(RuntimeModel model, RuntimeFitOptions options, ILogger logger)
    {
        if (model.RSquared < options.RSquaredWarningThreshold)
        {
            logger.LogWarning(
                "Runtime fit R² = {RSquared:F4} is below {Threshold}: the samples are noisy or not linear in o; consider TrialAggregation.Minimum, more trials, or checking the worst residuals.",
                model.RSquared,
                options.RSquaredWarningThreshold);
        }

        if (model.PerOutputTokenSeconds <= 0)
        {
            logger.LogWarning("Fitted per-output-token time g = {G} s is not positive; runtime does not grow with output length in these samples.", model.PerOutputTokenSeconds);
        }

        foreach (var knot in model.PromptEncoding.Knots)
        {
            if (knot.Y < 0)
            {
                logger.LogWarning("Fitted PE({Prompt}) = {Seconds} s is negative (predictions clamp it to 0); the overhead may be too large or the samples too noisy.", knot.X, knot.Y);
            }
        }
    }
}
