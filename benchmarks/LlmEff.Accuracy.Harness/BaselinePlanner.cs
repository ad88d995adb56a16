using LlmEff.Core;
using LlmEff.Core.Planning;

namespace LlmEff.Accuracy.Harness;

/// <summary>The adaptive planner as it was before noise-robust planning, kept verbatim (apart from its name) as the baseline.</summary>
internal sealed class BaselinePlanner
{
    private readonly int[] _prompts;
    private readonly int[] _outputs;

    /// <summary>Creates a planner over the candidate prompt sizes and output lengths.</summary>
    /// <exception cref="ArgumentException">Fewer than two candidates on either axis, or an invalid token count.</exception>
    public BaselinePlanner(IEnumerable<int> candidatePromptTokens, IEnumerable<int> candidateOutputTokens)
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

    /// <summary>Share of queries spent on output-length sweeps (outputs above the smallest). Default 0.25.</summary>
    public double DecodeShare { get; init; } = 0.25;

    /// <summary>The fit options that suit the planner's designs: single-output prompt sizes allowed, decode model chosen by cross-validation.</summary>
    // Auto as it was before DecodeModel.ContextHinge: constant or context-linear only.
    public static RuntimeFitOptions FitOptions { get; } = new() { AllowSingleOutputLength = true, Decode = DecodeModel.Auto, AutoConsidersHinge = false };

    /// <summary>The next query to measure, or null when every candidate has been measured.</summary>
    /// <param name="measured">Everything measured so far (any trials; the minimum runtime per configuration is used).</param>
    public ConfigurationQuery? Next(IEnumerable<ProfilingSample> measured)
    {
        ArgumentNullException.ThrowIfNull(measured);
        var runtimes = new Dictionary<(int P, int O), double>();
        foreach (var s in measured)
        {
            var key = (s.PromptTokens, s.OutputTokens);
            runtimes[key] = runtimes.TryGetValue(key, out var t) ? Math.Min(t, s.RuntimeSeconds) : s.RuntimeSeconds;
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

        var sweeps = runtimes.Keys.Count(k => k.O != oMin);
        var wantSweep = sweeps < DecodeShare * (runtimes.Count + 1);
        var pe = wantSweep ? null : NextPromptEncodingQuery(runtimes, oMin);
        return pe ?? NextSweepQuery(runtimes, oMin) ?? NextPromptEncodingQuery(runtimes, oMin) ?? FirstUnmeasured(runtimes);
    }

    /// <summary>
    /// Measures up to <paramref name="budget"/> configuration queries chosen by <see cref="Next"/>, continuing from
    /// <paramref name="alreadyMeasured"/> (a resumed run repeats nothing; earlier samples count against the budget).
    /// </summary>
    /// <param name="budget">Total distinct configurations to have measured; at least 6 (the seed).</param>
    /// <param name="measure">Runs one query and returns its sample; write it to disk there so a crash loses nothing.</param>
    /// <param name="alreadyMeasured">Samples from an interrupted run, or null.</param>
    /// <param name="progress">Reports each finished query.</param>
    /// <param name="cancellationToken">Stops between queries; what was measured is in the samples already written.</param>
    /// <returns>Every sample, earlier ones included.</returns>
    public async Task<IReadOnlyList<ProfilingSample>> RunAsync(
        int budget,
        Func<ConfigurationQuery, CancellationToken, ValueTask<ProfilingSample>> measure,
        IEnumerable<ProfilingSample>? alreadyMeasured = null,
        IProgress<PlannerProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(budget, 6);
        ArgumentNullException.ThrowIfNull(measure);
        var samples = alreadyMeasured?.ToList() ?? [];
        var configurations = samples.Select(s => (s.PromptTokens, s.OutputTokens)).ToHashSet();
        while (configurations.Count < budget)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (Next(samples) is not { } query)
            {
                break;
            }

            var sample = await measure(query, cancellationToken).ConfigureAwait(false);
            samples.Add(sample);
            configurations.Add((query.PromptTokens, query.OutputTokens));
            progress?.Report(new PlannerProgress(configurations.Count, budget, query));
        }

        return samples;
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
        var swept = runtimes.Keys.Where(k => k.O != oMin).Select(k => k.P).Distinct().ToArray();
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
