namespace LlmEff.Core;

/// <summary>
/// A fit's own estimate of its error, from the samples it was fitted on (no extra profiling).
/// </summary>
/// <param name="LeaveOnePromptSizeOut">
/// Each interior profiled prompt size in turn is left out, the model refitted and its points predicted: the error of
/// interpolating <c>PE</c> at prompt sizes that were not profiled. Null when fewer than three prompt sizes were profiled.
/// End points are not left out: that would measure extrapolation, which predictions inside the profiled range never do.
/// </param>
/// <param name="LeaveOneOutputLengthOut">
/// Each output length in turn is left out everywhere and predicted: the error of the decode model at unprofiled output
/// lengths. Null when fewer than three distinct output lengths were profiled.
/// </param>
/// <param name="LeaveOneConfigurationOut">
/// Each configuration above its prompt size's smallest profiled output length is left out alone and predicted: the error
/// at unprofiled configurations of profiled prompt sizes. The smallest-output configuration stays in every fold because it
/// anchors <c>PE(p)</c>, as it does for any unprofiled configuration of that prompt size. Null when no such configuration exists.
/// </param>
public sealed record CrossValidationReport(ErrorSummary? LeaveOnePromptSizeOut, ErrorSummary? LeaveOneOutputLengthOut, ErrorSummary? LeaveOneConfigurationOut)
{
    // The standard normal's quantiles at (k − 0.5)/8, k = 1…8: eight equally likely points that stand for it.
    private static readonly double[] NormalNodes = [-1.5341, -0.8871, -0.4888, -0.1573, 0.1573, 0.4888, 0.8871, 1.5341];

    internal IReadOnlyList<double> PromptFoldErrors { get; init; } = [];

    internal IReadOnlyList<double> ConfigurationFoldErrors { get; init; } = [];

    /// <summary>Mean of <c>1/t²</c> over the points the configuration folds predict: how much rounding their errors already hold.</summary>
    internal double ConfigurationFoldInverseSquareSeconds { get; init; }

    /// <summary>The measured runtime of each point the configuration folds predict, in the order of <see cref="ConfigurationFoldErrors"/>.</summary>
    internal IReadOnlyList<double> ConfigurationFoldSeconds { get; init; } = [];

    /// <summary>How much longer the longest query a configuration fold predicts must be than the shortest for the two-part error model (see <see cref="EstimateHeldOutError(RuntimeModel, IEnumerable{ValueTuple{int, int}})"/>).</summary>
    internal const double TwoComponentRuntimeSpan = 4;

    /// <summary>
    /// The clock step the fitted runtimes were recorded at (every one a whole multiple of it, e.g. 0.001 for logs rounded to
    /// the millisecond), detected from the samples; 0 when none was found (a continuous clock, or fewer than eight distinct
    /// runtimes). <see cref="EstimateHeldOutError(RuntimeModel, IEnumerable{ValueTuple{int, int}})"/> adds the rounding it
    /// implies to the folds' errors.
    /// </summary>
    public double MeasurementResolutionSeconds { get; init; }

    /// <summary>
    /// Standard deviation of one trial's runtime, in seconds, from configurations measured more than once (the absolute part
    /// of their spread: where the repeated configurations span runtimes 4× apart or more, variance <c>s² + r²·t²</c> is fitted
    /// and <c>s</c> kept); 0 when no configuration was measured twice. Single-shot fold errors cannot show a held-out
    /// measurement's own noise, nor that of the anchor its prediction rests on;
    /// <see cref="EstimateHeldOutError(RuntimeModel, IEnumerable{ValueTuple{int, int}})"/> adds both from this.
    /// </summary>
    public double TrialNoiseSeconds { get; init; }

    /// <summary>
    /// Configurations measured more than once, which <see cref="TrialNoiseSeconds"/> is read from. 0 means the noise of one
    /// measurement was not read at all (rather than read as 0): where the configuration folds predict only long queries,
    /// the estimate then leaves out the noise of the short ones and may read low; measure each configuration twice, or let
    /// the planner repeat its anchors (<see cref="Planning.AdaptiveProfilingPlanner.RepeatedAnchors"/>).
    /// </summary>
    public int RepeatedConfigurations { get; init; }

    /// <summary>The median number of trials per configuration in the samples (1 for single-shot designs).</summary>
    public int TrialsPerConfiguration { get; init; } = 1;

    /// <summary>How the trials were combined per configuration (the fit options'); sets how much of <see cref="TrialNoiseSeconds"/> a configuration's value keeps.</summary>
    internal TrialAggregation Aggregation { get; init; } = TrialAggregation.Minimum;

    /// <summary>Every fold's points pooled (whichever folds exist); null when none could be computed.</summary>
    public ErrorSummary? Combined { get; init; }

    /// <summary>
    /// Expected error at configurations that were not profiled, when a share <paramref name="shareAtUnprofiledPromptSizes"/>
    /// of them lies at prompt sizes that were never profiled (interpolated <c>PE</c>: leave-one-prompt-size-out errors) and
    /// the rest at profiled prompt sizes (leave-one-configuration-out errors). The two error sets are mixed with those
    /// weights, and the median and 90th percentile are <see cref="Percentiles.Weighted"/> of them (equal weights give
    /// <see cref="Percentiles.Of"/>). Null when a needed fold set is empty.
    /// </summary>
    /// <param name="shareAtUnprofiledPromptSizes">Between 0 and 1.</param>
    public ErrorSummary? EstimateHeldOutError(double shareAtUnprofiledPromptSizes)
    {
        if (!(shareAtUnprofiledPromptSizes >= 0 && shareAtUnprofiledPromptSizes <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(shareAtUnprofiledPromptSizes), shareAtUnprofiledPromptSizes, "The share is a fraction between 0 and 1.");
        }

        var share = shareAtUnprofiledPromptSizes;
        if ((share > 0 && PromptFoldErrors.Count == 0) || (share < 1 && ConfigurationFoldErrors.Count == 0))
        {
            return null;
        }

        var weighted = PromptFoldErrors.Select(e => (Error: Math.Abs(e), Weight: share / Math.Max(1, PromptFoldErrors.Count)))
            .Concat(ConfigurationFoldErrors.Select(e => (Error: Math.Abs(e), Weight: (1 - share) / Math.Max(1, ConfigurationFoldErrors.Count))))
            .Where(x => x.Weight > 0)
            .OrderBy(x => x.Error)
            .ToArray();
        var errors = weighted.Select(x => x.Error).ToArray();
        var weights = weighted.Select(x => x.Weight).ToArray();
        var rms = Math.Sqrt(weighted.Sum(x => x.Weight * x.Error * x.Error) / weights.Sum());
        return new ErrorSummary(weighted.Length, Percentiles.Weighted(errors, weights, 50), Percentiles.Weighted(errors, weights, 90), weighted[^1].Error, rms);
    }

    /// <summary>
    /// Expected error of <paramref name="model"/> at the configurations <paramref name="unmeasured"/>, as a measurement there
    /// would show it: the fold errors of <see cref="EstimateHeldOutError(double)"/> (mixed in the share of those configurations
    /// whose prompt size the model never profiled), the configuration folds' errors widened by the rounding of <see cref="MeasurementResolutionSeconds"/>
    /// of the held-out measurement and of the measurement its prediction rests on (two roundings, each of variance
    /// <c>step²/12</c>, relative to the predicted runtime of every configuration), less the rounding the folds' own predicted
    /// points already carry (their mean relative variance). Where configurations were measured more than once, each of the
    /// two measurements' variance is instead the larger of that rounding and <see cref="TrialNoiseSeconds"/>² times what
    /// aggregating <see cref="TrialsPerConfiguration"/> trials leaves of it (1/n for the mean, about 0.56 for the minimum of 3). The folds alone see the model's error at
    /// the swept long queries, where a millisecond is nothing; a held-out short query of a few tens of milliseconds deviates by
    /// its rounding whatever the model (A100 GPT-J-6B as measured: fold p90 0.16% against a real held-out p90 of 0.50%).
    /// The rounding is spread as a normal of the same variance (eight equal-probability points), so the result is
    /// deterministic. With no resolution detected it equals <see cref="EstimateHeldOutError(double)"/> at that share.
    /// Where the configuration folds predict both short and long queries (runtimes 4× apart or more, as when the planner's
    /// <see cref="Planning.AdaptiveProfilingPlanner.ShortOutputChecks"/> are on), their squared errors are instead fitted as
    /// <c>r² + s²/t²</c>, a relative part and an absolute one (the noise of one measurement and of its anchor, which weighs on
    /// short queries most; at least the two roundings), and each unmeasured configuration of a profiled prompt size gets a
    /// normal error of that variance at its predicted runtime <c>t</c>.
    /// </summary>
    /// <param name="model">The model fitted on the same samples (its profiled prompt sizes and predictions are used).</param>
    /// <param name="unmeasured">Configurations to estimate the error at (prompt tokens, output tokens); at least one.</param>
    /// <returns>The estimate, or null when a needed fold set is empty.</returns>
    /// <exception cref="ArgumentException"><paramref name="unmeasured"/> is empty.</exception>
    public ErrorSummary? EstimateHeldOutError(RuntimeModel model, IEnumerable<(int PromptTokens, int OutputTokens)> unmeasured)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(unmeasured);
        var configurations = unmeasured.Distinct().ToArray();
        if (configurations.Length == 0)
        {
            throw new ArgumentException("No configurations to estimate the error at; pass the candidate configurations that were not measured.", nameof(unmeasured));
        }

        var profiled = model.PromptSizeFits.Select(f => f.PromptTokens).ToHashSet();
        var share = configurations.Count(c => !profiled.Contains(c.PromptTokens)) / (double)configurations.Length;
        var folds = EstimateHeldOutError(share);
        // Two measurements' noise (the held-out one and the anchor of its prediction), each the larger of the clock's
        // rounding (variance step²/12) and what the trials' spread leaves after aggregation.
        var perMeasurement = Math.Max(
            MeasurementResolutionSeconds * MeasurementResolutionSeconds / 12.0,
            TrialNoiseSeconds * TrialNoiseSeconds * TrialNoise.AggregateFactor(Aggregation, TrialsPerConfiguration));
        var noiseVariance = 2.0 * perMeasurement;
        var twoComponent = SpansShortAndLongQueries();
        if (folds is null || (!twoComponent && !(noiseVariance > 0)))
        {
            return folds;
        }

        var seconds = configurations.Select(c => Math.Max(model.Predict(c.PromptTokens, c.OutputTokens), Math.Max(MeasurementResolutionSeconds, 1e-9))).ToArray();
        var inverseSquare = seconds.Select(t => 1 / (t * t)).ToArray();
        var points = new List<(double Error, double Weight)>();
        // The prompt-size folds predict whole left-out prompt sizes, their shortest queries included, so their errors hold the
        // rounding of short queries already (with it added again, the paper design's estimate on GPT-J-6B went from 1.66× to 2.4×).
        Spread(PromptFoldErrors, share, double.PositiveInfinity);
        if (twoComponent)
        {
            TwoComponent(1 - share);
        }
        else
        {
            // A fold's error already holds the rounding of the point it predicts, so only the excess over the folds' mean is
            // added: nothing where the folds predict runtimes as short as the held-out ones (the paper's design), most where
            // they predict long queries.
            Spread(ConfigurationFoldErrors, 1 - share, ConfigurationFoldInverseSquareSeconds);
        }

        points.Sort(static (a, b) => a.Error.CompareTo(b.Error));
        var errors = points.Select(x => x.Error).ToArray();
        var weights = points.Select(x => x.Weight).ToArray();
        var rms = Math.Sqrt(points.Sum(x => x.Weight * x.Error * x.Error) / weights.Sum());
        return new ErrorSummary(folds.Count, Percentiles.Weighted(errors, weights, 50), Percentiles.Weighted(errors, weights, 90), errors[^1], rms);

        void Spread(IReadOnlyList<double> foldErrors, double weight, double foldInverseSquare)
        {
            if (weight <= 0 || foldErrors.Count == 0)
            {
                return;
            }

            var noise = inverseSquare.Select(x => noiseVariance > 0 && x > foldInverseSquare ? Math.Sqrt(noiseVariance * (x - foldInverseSquare)) : 0).ToArray();
            var each = weight / (foldErrors.Count * noise.Length * NormalNodes.Length);
            foreach (var e in foldErrors)
            {
                foreach (var n in noise)
                {
                    foreach (var z in NormalNodes)
                    {
                        points.Add((Math.Abs(e + (n * z)), each));
                    }
                }
            }
        }

        // Configuration folds at both short and long queries: their squared errors fitted as r² + s²/t² (a relative part, the
        // model's, and an absolute one, the noise of a measurement and of the anchor it is predicted from, which weighs most on
        // short queries), and each unmeasured configuration of a profiled prompt size given a normal error of that variance at
        // its predicted runtime. The folds' own quantiles would be read off a handful of long queries and a couple of short ones.
        void TwoComponent(double weight)
        {
            var atProfiled = seconds.Where((_, i) => profiled.Contains(configurations[i].PromptTokens)).ToArray();
            if (weight <= 0 || atProfiled.Length == 0)
            {
                return;
            }

            var (relative, absolute) = FitRelativeAndAbsoluteVariance(ConfigurationFoldErrors, ConfigurationFoldSeconds);
            absolute = Math.Max(absolute, noiseVariance);
            var each = weight / (atProfiled.Length * NormalNodes.Length);
            foreach (var t in atProfiled)
            {
                var sd = Math.Sqrt(relative + (absolute / (t * t)));
                foreach (var z in NormalNodes)
                {
                    points.Add((Math.Abs(sd * z), each));
                }
            }
        }
    }

    /// <summary>Whether the configuration folds predict queries whose runtimes differ by at least <see cref="TwoComponentRuntimeSpan"/>× (three folds at least): enough to tell a relative error from an absolute one.</summary>
    private bool SpansShortAndLongQueries()
        => ConfigurationFoldSeconds.Count == ConfigurationFoldErrors.Count && ConfigurationFoldSeconds.Count >= 3
            && ConfigurationFoldSeconds.Max() >= TwoComponentRuntimeSpan * ConfigurationFoldSeconds.Min();

    /// <summary>
    /// Least squares of <c>e² = r² + s²/t²</c> over fold errors <c>e</c> at runtimes <c>t</c>, both terms kept non-negative:
    /// <c>r²</c> the relative variance, <c>s²</c> the absolute one in seconds².
    /// </summary>
    internal static (double Relative, double AbsoluteSeconds2) FitRelativeAndAbsoluteVariance(IReadOnlyList<double> errors, IReadOnlyList<double> seconds)
    {
        var u = seconds.Select(t => 1 / (t * t)).ToArray();
        var y = errors.Select(e => e * e).ToArray();
        double mu = u.Average(), my = y.Average();
        var suu = u.Sum(x => (x - mu) * (x - mu));
        var slope = suu > 0 ? u.Zip(y, (a, b) => (a - mu) * (b - my)).Sum() / suu : 0;
        if (slope <= 0)
        {
            return (my, 0);
        }

        var intercept = my - (slope * mu);
        return intercept >= 0 ? (intercept, slope) : (0, u.Zip(y, (a, b) => a * b).Sum() / u.Sum(a => a * a));
    }
}
