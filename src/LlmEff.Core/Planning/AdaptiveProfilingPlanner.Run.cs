using System.Globalization;

namespace LlmEff.Core.Planning;

// The measuring loop: asks Next, measures, counts queries against the budget, resumes from earlier samples.
public sealed partial class AdaptiveProfilingPlanner
{
    /// <summary>
    /// Measures up to <paramref name="budget"/> configuration queries chosen by <see cref="Next"/>, continuing from
    /// <paramref name="alreadyMeasured"/> (a resumed run repeats nothing; earlier samples count against the budget), and
    /// sooner where <see cref="TargetP90"/> is met.
    /// </summary>
    /// <param name="budget">Total queries to have made: distinct configurations, plus the second trials of repeated anchors (<see cref="RepeatedAnchors"/>); at least 6 (the seed).</param>
    /// <param name="measure">Runs one query and returns its sample; write it to disk there so a crash loses nothing.</param>
    /// <param name="alreadyMeasured">Samples from an interrupted run, or null.</param>
    /// <param name="progress">Reports each finished query.</param>
    /// <param name="cancellationToken">Stops between queries; what was measured is in the samples already written.</param>
    /// <returns>Every sample, earlier ones included.</returns>
    /// <exception cref="ArgumentException"><paramref name="alreadyMeasured"/> holds a null sample.</exception>
    /// <exception cref="InvalidOperationException"><paramref name="measure"/> answered a query with a sample of another configuration, and the planner would ask that query again;
    /// or it returned null, or a runtime that is not finite and positive.</exception>
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
        for (var i = 0; i < samples.Count; i++)
        {
            if (samples[i] is null)
            {
                throw new ArgumentException($"alreadyMeasured[{i}] is null; remove null entries.", nameof(alreadyMeasured));
            }
        }

        var configurations = samples.Select(s => (s.PromptTokens, s.OutputTokens)).ToHashSet();
        var answered = new Dictionary<ConfigurationQuery, ProfilingSample>();
        while (QueriesSpent(samples, configurations.Count) < budget)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (TargetMet(samples, cancellationToken) || Next(samples) is not { } query)
            {
                break;
            }

            // Next plans from the samples' own configurations, so a sample of another configuration than asked would have
            // it ask the same query again, for ever.
            if (answered.TryGetValue(query, out var other) && (other.PromptTokens, other.OutputTokens) != (query.PromptTokens, query.OutputTokens))
            {
                throw new InvalidOperationException(string.Create(
                    CultureInfo.InvariantCulture,
                    $"measure answered the query (p = {query.PromptTokens}, o = {query.OutputTokens}) with a sample of (p = {other.PromptTokens}, o = {other.OutputTokens}), so the planner would ask it again for ever. Return the sample of the configuration asked for (an API that stops early: send ignore_eos or min_tokens), or leave that configuration out of the candidates."));
            }

            var sample = await measure(query, cancellationToken).ConfigureAwait(false)
                ?? throw new InvalidOperationException(string.Create(
                    CultureInfo.InvariantCulture,
                    $"measure returned null for the configuration (p = {query.PromptTokens}, o = {query.OutputTokens}). Return the measured sample: retry a failed query in the callback, or leave that configuration out of the candidates."));

            // A NaN, infinite or non-positive runtime (a failed or mistimed query) would be fitted as a measurement and
            // poison the model; the run's samples are what the caller fits.
            if (!double.IsFinite(sample.RuntimeSeconds) || sample.RuntimeSeconds <= 0)
            {
                throw new InvalidOperationException(string.Create(
                    CultureInfo.InvariantCulture,
                    $"measure returned a runtime of {sample.RuntimeSeconds} s for the configuration (p = {query.PromptTokens}, o = {query.OutputTokens}); a runtime must be finite and positive. Retry a failed query in the callback, or leave that configuration out of the candidates."));
            }

            answered[query] = sample;
            samples.Add(sample);
            configurations.Add((query.PromptTokens, query.OutputTokens));
            progress?.Report(new PlannerProgress(QueriesSpent(samples, configurations.Count), budget, query));
        }

        return samples;
    }

    /// <summary>
    /// The assessment of a run with <paramref name="measured"/> when it may stop for <paramref name="targetP90"/>
    /// (<see cref="PlanAssessment.MeetsTarget"/>), else null; no assessment is made while the rule cannot hold (no configuration
    /// measured twice, so the noise is unread) or nothing can be fitted yet. <see cref="TargetP90"/>'s check, and the one the
    /// profilers apply to every trial.
    /// </summary>
    /// <param name="measured">The run's samples, every trial included.</param>
    /// <param name="targetP90">Required 90th-percentile relative error (0.02 = 2%).</param>
    /// <param name="cancellationToken">Stops between cross-validation folds.</param>
    public PlanAssessment? AssessmentMeetingTarget(IEnumerable<ProfilingSample> measured, double targetP90, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(measured);
        var samples = measured.ToList();
        if (samples.Count < 6 || samples.GroupBy(s => (s.PromptTokens, s.OutputTokens)).All(g => g.Count() < 2))
        {
            return null;
        }

        try
        {
            var assessment = Assess(samples, cancellationToken: cancellationToken);
            return assessment.MeetsTarget(targetP90) ? assessment : null;
        }
        catch (ArgumentException)
        {
            return null; // not fittable yet
        }
    }

    // TargetP90's rule, checked before each query (so a resumed run that met it asks nothing more).
    private bool TargetMet(List<ProfilingSample> samples, CancellationToken cancellationToken)
        => TargetP90 is { } target && AssessmentMeetingTarget(samples, target, cancellationToken) is not null;

    // The budget counts queries: each configuration once, and, with RepeatedAnchors on, each anchor's second trial (the
    // planner's repeat, or one an earlier run brought in). Further trials, and repeats of other configurations, do not count.
    private int QueriesSpent(List<ProfilingSample> samples, int configurations)
    {
        if (RepeatedAnchors == 0)
        {
            return configurations;
        }

        var oMin = _outputs[0];
        return configurations + samples.Where(s => s.OutputTokens == oMin).GroupBy(s => s.PromptTokens).Sum(g => Math.Min(g.Count(), 2) - 1);
    }
}
