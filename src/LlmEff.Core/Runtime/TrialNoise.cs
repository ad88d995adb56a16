namespace LlmEff.Core;

/// <summary>
/// The measurement noise that repeated trials of a configuration show: what single-shot fold errors cannot see. The
/// within-configuration variances are split into an absolute part (seconds², the same for short and long queries) and a
/// relative one; only the absolute part is kept, because a relative noise is already in the folds' relative errors.
/// </summary>
internal static class TrialNoise
{
    // Variance of the minimum of n standard normal draws, n = 1…10 (order statistics; beyond 10 the last is used, which
    // overstates the noise of a larger trial count slightly rather than understating it).
    private static readonly double[] MinimumVariance = [1.0, 0.6817, 0.5595, 0.4917, 0.4475, 0.4159, 0.3919, 0.3729, 0.3574, 0.3443];

    /// <summary>
    /// The absolute noise variance of one trial (seconds²), the median number of trials per configuration and the number of
    /// configurations measured more than once, from the validated (not yet aggregated) points; (0, 1, 0) when no
    /// configuration was measured twice.
    /// </summary>
    public static (double AbsoluteSeconds2, int TrialsPerConfiguration, int RepeatedConfigurations) From(IReadOnlyList<RuntimeModelFitter.Point> points)
    {
        var groups = points.GroupBy(p => (p.PromptTokens, p.OutputTokens)).Select(g => g.Select(p => p.Seconds).ToArray()).ToList();
        var counts = groups.Select(g => g.Length).Order().ToArray();
        var typical = counts[(counts.Length - 1) / 2];
        var repeated = groups.Where(g => g.Length >= 2).ToList();
        if (repeated.Count == 0)
        {
            return (0, typical, 0);
        }

        var variances = repeated.Select(g =>
        {
            var mean = g.Average();
            return g.Sum(x => (x - mean) * (x - mean)) / (g.Length - 1);
        }).ToArray();
        var seconds = repeated.Select(g => g.Average()).ToArray();
        var freedom = repeated.Select(g => g.Length - 1.0).ToArray();

        // Where the repeated configurations span short and long queries, v = s² + r²·t² separates the parts; otherwise
        // all of it is taken as absolute, the part that weighs on the short queries a planner repeats.
        if (seconds.Length >= 3 && seconds.Max() >= CrossValidationReport.TwoComponentRuntimeSpan * seconds.Min())
        {
            return (FitAbsoluteVariance(variances, seconds, freedom), typical, repeated.Count);
        }

        return (Pooled(variances, freedom), typical, repeated.Count);
    }

    // The pooled sample variance: each configuration's weighted by its degrees of freedom.
    private static double Pooled(double[] variances, double[] freedom) => variances.Zip(freedom, (v, f) => v * f).Sum() / freedom.Sum();

    /// <summary>
    /// <c>s²</c> of <c>v = s² + r²·t²</c> (both non-negative) by iteratively reweighted least squares: a sample variance with
    /// <c>f</c> degrees of freedom has variance <c>2·σ⁴/f</c>, so each is weighted by <c>f / (s² + r²·t²)²</c> of the last fit.
    /// Unweighted, the longest queries' large variances (or, in relative terms, the shortest queries') would decide it alone.
    /// </summary>
    internal static double FitAbsoluteVariance(double[] variances, double[] seconds, double[] freedom)
    {
        var x = seconds.Select(t => t * t).ToArray();
        var pooled = Pooled(variances, freedom);
        double s2 = pooled, r2 = 0;
        for (var iteration = 0; iteration < 20; iteration++)
        {
            var w = x.Select((xi, i) => freedom[i] / Math.Pow(Math.Max((s2 + (r2 * xi)), 1e-30), 2)).ToArray();
            double sw = w.Sum(), swx = w.Zip(x, (a, b) => a * b).Sum(), swy = w.Zip(variances, (a, b) => a * b).Sum();
            double swxx = w.Select((a, i) => a * x[i] * x[i]).Sum(), swxy = w.Select((a, i) => a * x[i] * variances[i]).Sum();
            var det = (sw * swxx) - (swx * swx);
            double nextS2, nextR2;
            if (det > 0)
            {
                nextR2 = ((sw * swxy) - (swx * swy)) / det;
                nextS2 = (swy - (nextR2 * swx)) / sw;
            }
            else
            {
                (nextS2, nextR2) = (swy / sw, 0);
            }

            // The constrained optimum lies on a boundary when the free one leaves the quadrant.
            if (nextR2 < 0)
            {
                (nextS2, nextR2) = (swy / sw, 0);
            }
            else if (nextS2 < 0)
            {
                (nextS2, nextR2) = (0, swxy / swxx);
            }

            var converged = Math.Abs(nextS2 - s2) <= 1e-9 * pooled && Math.Abs(nextR2 - r2) * x.Max() <= 1e-9 * pooled;
            (s2, r2) = (nextS2, nextR2);
            if (converged || (s2 == 0 && r2 == 0))
            {
                break;
            }
        }

        return s2;
    }

    /// <summary>How much of one trial's variance is left in a configuration's value after <paramref name="aggregation"/> over <paramref name="trials"/> trials.</summary>
    public static double AggregateFactor(TrialAggregation aggregation, int trials)
    {
        var n = Math.Max(1, trials);
        return aggregation switch
        {
            TrialAggregation.Minimum => MinimumVariance[Math.Min(n, MinimumVariance.Length) - 1],
            TrialAggregation.Mean => 1.0 / n,

            // The median of n normal draws has variance of about π/(2n) of one draw (exactly the mean's for n ≤ 2).
            TrialAggregation.Median => n <= 2 ? 1.0 / n : Math.Min(1.0, Math.PI / (2.0 * n)),

            // Every trial is regressed as a point of its own.
            _ => 1.0,
        };
    }
}
