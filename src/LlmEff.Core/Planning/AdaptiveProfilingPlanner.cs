namespace LlmEff.Core.Planning;

/// <summary>
/// Chooses configuration queries one at a time where the runtime model is least certain, from a candidate grid.
/// </summary>
/// <remarks>
/// <para>
/// The decode slope is the same at every prompt size, so a few output-length sweeps pin it down; what varies is
/// <c>PE(p)</c>, which bends and steps (GEMM tiling makes it staircase-like on GPUs). A query at the smallest output
/// length measures <c>PE(p)</c> almost directly at the cost of one short query, so the planner spends most of the budget
/// there and the rest on sweeps at spread-out prompt sizes.
/// </para>
/// <para>
/// Order: six seed queries (smallest, largest and middle prompt size, each at the smallest and largest output length);
/// then, whenever fewer than <see cref="DecodeShare"/> of the queries are sweeps, a sweep at the measured prompt size
/// farthest from the existing sweeps; otherwise the candidate prompt size nearest the middle of the gap between measured
/// prompt sizes across which the runtime rises most (relative), which is where linear interpolation is least certain.
/// Deterministic: the same measurements give the same next query.
/// </para>
/// </remarks>
public sealed partial class AdaptiveProfilingPlanner
{
    private readonly int[] _prompts;
    private readonly int[] _outputs;
    private readonly int _shortOutputChecks;
    private readonly int _repeatedAnchors = 2;
    private readonly double _decodeShare = 0.15;
    private readonly double _confirmShare;
    private readonly double _confirmNoiseThreshold = 0.005;
    private readonly double? _targetP90;

    /// <summary>
    /// The planner for a run whose every query is <paramref name="trialsPerQuery"/> timed trials of its configuration: with
    /// one, the default (its <see cref="RepeatedAnchors"/> read the noise of one measurement); with several, the trials show
    /// that noise already, so no anchor is repeated (<see cref="RepeatedAnchors"/> = 0). The API and GPU profilers use it.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="trialsPerQuery"/> is below 1.</exception>
    /// <exception cref="ArgumentException">As the constructor.</exception>
    public static AdaptiveProfilingPlanner ForTrialsPerQuery(IEnumerable<int> candidatePromptTokens, IEnumerable<int> candidateOutputTokens, int trialsPerQuery)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(trialsPerQuery, 1);
        return trialsPerQuery == 1
            ? new AdaptiveProfilingPlanner(candidatePromptTokens, candidateOutputTokens)
            : new AdaptiveProfilingPlanner(candidatePromptTokens, candidateOutputTokens) { RepeatedAnchors = 0 };
    }

    /// <summary>Creates a planner over the candidate prompt sizes and output lengths.</summary>
    /// <exception cref="ArgumentException">Fewer than two candidates on either axis, or an invalid token count.</exception>
    public AdaptiveProfilingPlanner(IEnumerable<int> candidatePromptTokens, IEnumerable<int> candidateOutputTokens)
    {
        ArgumentNullException.ThrowIfNull(candidatePromptTokens);
        ArgumentNullException.ThrowIfNull(candidateOutputTokens);
        _prompts = candidatePromptTokens.Distinct().Order().ToArray();
        _outputs = candidateOutputTokens.Distinct().Order().ToArray();
        if (_prompts.Length < 2 || _prompts[0] < 0)
        {
            throw new ArgumentException("Give at least two distinct, non-negative candidate prompt sizes.", nameof(candidatePromptTokens));
        }

        if (_outputs.Length < 2 || _outputs[0] < 1)
        {
            throw new ArgumentException("Give at least two distinct candidate output lengths, each at least 1.", nameof(candidateOutputTokens));
        }
    }

    /// <summary>
    /// Share of queries spent on output-length sweeps (outputs above the smallest). Default 0.15: on noisy grids a new
    /// prompt size buys more than another sweep point once three sweeps pin the decode slope (see docs/accuracy.md).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Not in [0, 1].</exception>
    public double DecodeShare
    {
        get => _decodeShare;
        init => _decodeShare = ValidShare(value, nameof(DecodeShare));
    }

    /// <summary>
    /// Largest share of queries spent confirming knots: where a prompt size measured once breaks the order of its
    /// neighbours (<c>PE</c> never falls as the prompt grows, so that is noise, not a step) by more than
    /// <see cref="ConfirmNoiseThreshold"/>, the planner measures it again at the second-smallest output length, so its
    /// <c>PE(p)</c> rests on two measurements (pooled by a fit with <see cref="RuntimeFitOptions.RobustLoss"/>). Default 0,
    /// off: on the Megatron grids and their noisier variants, a new prompt size lowered the held-out error more than a
    /// confirmation at every budget up to 50 (docs/accuracy.md). Turn it on where repeats of one configuration scatter more
    /// than neighbouring prompt sizes differ.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Not in [0, 1].</exception>
    public double ConfirmShare
    {
        get => _confirmShare;
        init => _confirmShare = ValidShare(value, nameof(ConfirmShare));
    }

    /// <summary>
    /// Queries spent, right after the seed, at the second-smallest output length of the smallest, middle and largest prompt
    /// sizes (in that order; 0 to 3). Default 0, off. They count as sweeps. A short query's runtime scatters more, relative
    /// to itself, than a long one's, and unmeasured configurations are mostly short ones; with these checks among the
    /// measured points the error estimate (<see cref="Assess"/>) sees that scatter instead of reading it off long sweeps alone.
    /// On the Megatron grids' noisier variants two checks brought the estimate within 2× of the real held-out p90 in 116 of
    /// 136 designs instead of 103, and cost accuracy: they displace two long sweeps (docs/accuracy.md has the figures).
    /// </summary>
    public int ShortOutputChecks
    {
        get => _shortOutputChecks;
        init => _shortOutputChecks = value is >= 0 and <= 3 ? value : throw new ArgumentOutOfRangeException(nameof(ShortOutputChecks), value, "Give 0 to 3 short-output checks (the smallest, middle and largest prompt sizes at the second-smallest output length).");
    }

    /// <summary>
    /// Anchors measured a second time once every candidate prompt size has its smallest-output anchor (0 to 8): the ones with
    /// the shortest runtimes, where a measurement's noise weighs most relative to the runtime, one query each. Their spread is
    /// the noise that single-shot queries cannot show (<see cref="CrossValidationReport.TrialNoiseSeconds"/>), which the error
    /// estimate (<see cref="Assess"/>) then adds for each unmeasured configuration and the anchor it is predicted from; the fit
    /// pools each repeated anchor's trials (<see cref="RuntimeFitOptions.Aggregation"/>). They cost sweeps, not prompt sizes:
    /// a budget too small to anchor every candidate prompt size makes none. Default 2 (two pairs of trials): on the Megatron
    /// grids' noisier variants at 50 queries they brought the estimate within 2× of the real held-out p90 in 62 of 64 designs
    /// instead of 53, at the price of two late sweeps (docs/benchmarks.md). Set 0 where a repeat cannot be a new measurement
    /// (a table of measured runtimes answers it with the same value).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Not in [0, 8].</exception>
    public int RepeatedAnchors
    {
        get => _repeatedAnchors;
        init => _repeatedAnchors = value is >= 0 and <= 8 ? value : throw new ArgumentOutOfRangeException(nameof(RepeatedAnchors), value, "Give 0 to 8 repeated anchors (2 gives the error estimate two pairs of trials to read the noise from).");
    }

    /// <summary>Relative break of order between neighbouring knots beyond which a lone knot is confirmed. Default 0.005.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Negative, NaN or infinite.</exception>
    public double ConfirmNoiseThreshold
    {
        get => _confirmNoiseThreshold;

        // 0 is meaningful (confirm any break of order); NaN would silently turn confirmations off and a negative value
        // would confirm knots that keep the order.
        init => _confirmNoiseThreshold = double.IsFinite(value) && value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(ConfirmNoiseThreshold), value, "Give a finite relative break of order, 0 or more (e.g. 0.005 for 0.5 %; 0 confirms any break).");
    }

    /// <summary>
    /// A 90th-percentile relative error to stop at, or null (default) to spend the whole budget. With it,
    /// <see cref="RunAsync"/> stops before the next query once <see cref="Assess"/> says the run meets it
    /// (<see cref="PlanAssessment.MeetsTarget"/>: the noise read from a repeat, and the estimated p90 at or below the target).
    /// On the Megatron logs' noisier variants, with each grid's own bar as the target and a budget of 50, runs stopped after
    /// 35.0 queries on average and met the bar in 58 of 64 designs, against 62 with the whole budget (docs/benchmarks.md).
    /// With several trials a query, the samples the planner sees are one per configuration, so there the caller applies the
    /// rule to every trial (the API and GPU profilers do).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Not in (0, 1).</exception>
    public double? TargetP90
    {
        get => _targetP90;
        init => _targetP90 = value is null || (value > 0 && value < 1) ? value : throw new ArgumentOutOfRangeException(nameof(TargetP90), value, "Give the relative error to stop at as a fraction between 0 and 1 (0.02 for 2 %), or null to spend the whole budget.");
    }

    /// <summary>The fit options that suit the planner's designs: single-output prompt sizes allowed, decode model chosen by cross-validation.</summary>
    public static RuntimeFitOptions FitOptions { get; } = new() { AllowSingleOutputLength = true, Decode = DecodeModel.Auto };

    /// <summary>
    /// Fits what was measured and estimates, from those samples alone, the error at every candidate configuration not
    /// measured (cross-validation, <see cref="CrossValidationReport.EstimateHeldOutError(RuntimeModel, IEnumerable{ValueTuple{int, int}})"/>:
    /// fold errors mixed in the proportion of unmeasured configurations at unmeasured prompt sizes, widened by the rounding of
    /// the runtimes' clock where one is detected). Compare the estimate with the accuracy you need to tell
    /// whether the budget was too small.
    /// </summary>
    /// <param name="measured">The samples of a run (at least one prompt size swept at two output lengths).</param>
    /// <param name="options">Fit options; default <see cref="FitOptions"/>. Non-physical fits are kept, with their warnings on the model.</param>
    /// <param name="cancellationToken">Stops between cross-validation folds.</param>
    public PlanAssessment Assess(IEnumerable<ProfilingSample> measured, RuntimeFitOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(measured);
        var samples = measured.ToList();
        options = (options ?? FitOptions) with { KeepNonPhysicalFit = true };
        var model = RuntimeModelFitter.Fit(samples, options, logger: null, cancellationToken);
        var done = samples.Select(s => (s.PromptTokens, s.OutputTokens)).ToHashSet();
        var left = _prompts.SelectMany(p => _outputs.Select(o => (PromptTokens: p, OutputTokens: o))).Where(k => !done.Contains(k)).ToList();
        var report = RuntimeModel.CrossValidate(samples, options, cancellationToken);
        var estimate = left.Count == 0 ? report.EstimateHeldOutError(0) : report.EstimateHeldOutError(model, left);
        return new PlanAssessment(model, estimate, left.Count) { TrialNoiseSeconds = report.TrialNoiseSeconds, RepeatedConfigurations = report.RepeatedConfigurations };
    }

    /// <summary>The next query to measure, or null when every candidate has been measured.</summary>
    /// <param name="measured">Everything measured so far (any trials; the minimum runtime per configuration is used).</param>
    /// <exception cref="ArgumentException"><paramref name="measured"/> holds a null sample.</exception>
    public ConfigurationQuery? Next(IEnumerable<ProfilingSample> measured)
    {
        ArgumentNullException.ThrowIfNull(measured);
        var runtimes = new Dictionary<(int P, int O), double>();
        var trials = new Dictionary<(int P, int O), int>();
        var index = 0;
        foreach (var s in measured)
        {
            if (s is null)
            {
                throw new ArgumentException($"measured[{index}] is null; remove null entries.", nameof(measured));
            }

            index++;
            var key = (s.PromptTokens, s.OutputTokens);
            runtimes[key] = runtimes.TryGetValue(key, out var t) ? Math.Min(t, s.RuntimeSeconds) : s.RuntimeSeconds;
            trials[key] = trials.GetValueOrDefault(key) + 1;
        }

        int pMin = _prompts[0], pMax = _prompts[^1], oMin = _outputs[0], oMax = _outputs[^1];
        var pMid = _prompts.MinBy(p => Math.Abs(p - ((pMin + pMax) / 2.0)));
        foreach (var seed in new[] { (pMin, oMin), (pMax, oMin), (pMin, oMax), (pMax, oMax), (pMid, oMin), (pMid, oMax) })
        {
            if (!runtimes.ContainsKey(seed))
            {
                return new ConfigurationQuery(seed.Item1, seed.Item2);
            }
        }

        foreach (var check in new[] { pMin, pMid, pMax }.Distinct().Take(ShortOutputChecks).Select(p => (p, _outputs[1])))
        {
            if (!runtimes.ContainsKey(check))
            {
                return new ConfigurationQuery(check.Item1, check.Item2);
            }
        }

        if (ConfirmShare > 0 && NextConfirmation(runtimes, oMin) is { } confirm)
        {
            return confirm;
        }

        if (NextRepeat(runtimes, trials, oMin) is { } repeat)
        {
            return repeat;
        }

        var sweeps = runtimes.Keys.Count(k => k.O != oMin && !IsConfirmation(runtimes, k));
        var wantSweep = sweeps < DecodeShare * (runtimes.Count + 1);
        var pe = wantSweep ? null : NextPromptEncodingQuery(runtimes, oMin);
        return pe ?? NextSweepQuery(runtimes, oMin) ?? NextPromptEncodingQuery(runtimes, oMin) ?? FirstUnmeasured(runtimes);
    }

    // Shares of the budget; NaN would silently never trigger and values outside [0, 1] mean nothing.
    private static double ValidShare(double value, string name)
        => value is >= 0 and <= 1 ? value : throw new ArgumentOutOfRangeException(name, value, "Give a share of the queries between 0 and 1 (e.g. 0.15 for 15 %).");

    // A confirmation is the second output length at a prompt size measured at no other output length above the smallest.
    // With only two output lengths the second is the largest, and a query there is a sweep: there are no confirmations.
    private bool IsConfirmation(Dictionary<(int P, int O), double> runtimes, (int P, int O) key)
        => _outputs.Length > 2 && key.O == _outputs[1] && !_outputs.Skip(2).Any(o => runtimes.ContainsKey((key.P, o)));

    private ConfigurationQuery? NextConfirmation(Dictionary<(int P, int O), double> runtimes, int oMin)
    {
        if (_outputs.Length <= 2)
        {
            return null; // no confirmations with two output lengths (see IsConfirmation)
        }

        var o2 = _outputs[1];
        var confirmed = runtimes.Keys.Count(k => IsConfirmation(runtimes, k));
        if (confirmed >= ConfirmShare * (runtimes.Count + 1))
        {
            return null;
        }

        // PE(p) never falls as the prompt grows, so a lone knot below its left neighbour or above its right one is noise
        // (a real step keeps the order). Confirm the one that breaks the order most, when it does by more than the threshold.
        var measured = _prompts.Where(p => runtimes.ContainsKey((p, oMin))).ToArray();
        ConfigurationQuery? best = null;
        var bestScore = ConfirmNoiseThreshold;
        for (var i = 1; i + 1 < measured.Length; i++)
        {
            var p = measured[i];
            if (runtimes.Keys.Any(k => k.P == p && k.O != oMin))
            {
                continue;
            }

            double left = runtimes[(measured[i - 1], oMin)], here = runtimes[(p, oMin)], right = runtimes[(measured[i + 1], oMin)];
            var score = Math.Max(0, Math.Max(left - here, here - right)) / here;
            if (score > bestScore)
            {
                bestScore = score;
                best = new ConfigurationQuery(p, o2);
            }
        }

        return best;
    }

    // Once every candidate prompt size is anchored, the shortest anchors not yet measured twice, up to RepeatedAnchors of them.
    private ConfigurationQuery? NextRepeat(Dictionary<(int P, int O), double> runtimes, Dictionary<(int P, int O), int> trials, int oMin)
    {
        if (RepeatedAnchors == 0 || _prompts.Any(p => !runtimes.ContainsKey((p, oMin))))
        {
            return null;
        }

        var repeated = _prompts.Count(p => trials[(p, oMin)] >= 2);
        return repeated >= RepeatedAnchors
            ? null
            : _prompts.Where(p => trials[(p, oMin)] < 2).OrderBy(p => runtimes[(p, oMin)]).ThenBy(p => p).Select(p => (ConfigurationQuery?)new ConfigurationQuery(p, oMin)).First();
    }

    private ConfigurationQuery? NextPromptEncodingQuery(Dictionary<(int P, int O), double> runtimes, int oMin)
    {
        var measured = _prompts.Where(p => runtimes.ContainsKey((p, oMin))).ToArray();
        ConfigurationQuery? best = null;
        var bestScore = double.NegativeInfinity;
        for (var i = 0; i + 1 < measured.Length; i++)
        {
            int a = measured[i], b = measured[i + 1];
            var inside = _prompts.Where(p => p > a && p < b).ToArray();
            if (inside.Length == 0)
            {
                continue;
            }

            double ta = runtimes[(a, oMin)], tb = runtimes[(b, oMin)];
            var score = Math.Abs(tb - ta) / Math.Min(ta, tb);
            if (score > bestScore)
            {
                bestScore = score;
                best = new ConfigurationQuery(inside.MinBy(p => Math.Abs(p - ((a + b) / 2.0))), oMin);
            }
        }

        return best;
    }

    private ConfigurationQuery? NextSweepQuery(Dictionary<(int P, int O), double> runtimes, int oMin)
    {
        var swept = runtimes.Keys.Where(k => k.O != oMin && !IsConfirmation(runtimes, k)).Select(k => k.P).Distinct().ToArray();
        var candidates = runtimes.Keys.Where(k => k.O == oMin).Select(k => k.P).Distinct().Order().ToArray();
        foreach (var p in candidates.OrderByDescending(p => swept.Length == 0 ? 0 : swept.Min(s => Math.Abs(s - p))).ThenBy(p => p))
        {
            // Largest output first (it carries most of g), then the one farthest from those measured at this p.
            var done = _outputs.Where(o => runtimes.ContainsKey((p, o))).ToArray();
            var next = _outputs.Where(o => !done.Contains(o)).OrderByDescending(o => done.Min(d => Math.Abs(Math.Log(o) - Math.Log(d)))).ThenByDescending(o => o).Cast<int?>().FirstOrDefault();
            if (next is { } o)
            {
                return new ConfigurationQuery(p, o);
            }
        }

        return null;
    }

    private ConfigurationQuery? FirstUnmeasured(Dictionary<(int P, int O), double> runtimes)
    {
        foreach (var o in _outputs)
        {
            foreach (var p in _prompts)
            {
                if (!runtimes.ContainsKey((p, o)))
                {
                    return new ConfigurationQuery(p, o);
                }
            }
        }

        return null;
    }
}
