using LlmEff.Core;
using LlmEff.Core.Planning;
using Microsoft.Extensions.Logging;

namespace LlmEff.Profiling.Api;

// Adaptive runs (ApiProfilingOptions.AdaptiveBudget): LlmEff.Core's planner chooses the configurations.
public sealed partial class ApiProfiler
{
    // The planner asks; each query is the configuration's trials, one request at a time. A resumed run rebuilds the planner's
    // samples from the journal, so it asks the same queries again and only the requests not yet finished are sent.
    private async Task<ProfilingStopReason> RunAdaptiveAsync(int queries, IReadOnlyList<ApiSampleRecord> previous, HashSet<ApiRequestKey> finished, ApiSampleJournal journal, RunState state, CancellationToken cancellationToken)
    {
        var planner = Planner();
        var answered = previous.Where(Answered).ToList();
        var stop = ProfilingStopReason.Completed;
        try
        {
            await planner.RunAsync(queries, MeasureAsync, PlannerSamples(answered, finished), progress: null, cancellationToken).ConfigureAwait(false);
        }
        catch (AdaptiveStop ex)
        {
            stop = ex.Reason;
        }

        return stop;

        async ValueTask<ProfilingSample> MeasureAsync(ConfigurationQuery query, CancellationToken ct)
        {
            // The target is checked on every answered request, trials included (the planner sees one sample a configuration).
            if (_options.AdaptiveTargetP90 is { } target && planner.AssessmentMeetingTarget(PlannerInput(answered), target, ct) is { } assessment)
            {
                _logger.LogInformation("Target reached: estimated held-out p90 {Estimate:P2} at or below {Target:P2}, noise read from {Repeated} repeated queries; stopping before the budget.", assessment.EstimatedHeldOutError!.P90, target, assessment.RepeatedConfigurations);
                throw new AdaptiveStop(ProfilingStopReason.TargetReached);
            }

            var (p, o) = (query.PromptTokens, query.OutputTokens);
            ApiRequestKey[] keys;
            if (_options.Trials == 1)
            {
                // One trial a query: a query asked again is the planner's repeated anchor, the configuration's next trial.
                var next = Enumerable.Range(0, int.MaxValue).First(t => !finished.Contains(AdaptiveKey(p, o, t)));
                keys = [AdaptiveKey(p, o, next)];
            }
            else
            {
                keys = Enumerable.Range(0, _options.Trials).Select(t => AdaptiveKey(p, o, t)).Where(k => !finished.Contains(k)).ToArray();
                state.Skip(_options.Trials - keys.Length);
            }

            var fresh = new List<ApiSampleRecord>();
            foreach (var key in keys)
            {
                if (!state.Budget.CanAfford(1, p, o))
                {
                    throw new AdaptiveStop(ProfilingStopReason.BudgetExhausted);
                }

                if (!await ExecuteAsync(key, journal, state, new BatchGate(1), ct, fresh.Add).ConfigureAwait(false))
                {
                    throw new AdaptiveStop(ProfilingStopReason.BudgetExhausted);
                }

                if (fresh[^1].Status != ApiSampleStatus.Failed)
                {
                    finished.Add(key);
                }
            }

            // The planner reads the configuration's fastest answer (the denoised runtime); the fit later reads every trial.
            var runtimes = answered.Concat(fresh)
                .Where(r => r.PromptTokens == p && r.OutputTokens == o && Answered(r) && (_options.Trials > 1 || keys.Contains(r.Key)))
                .Select(r => r.RuntimeSeconds!.Value)
                .ToList();
            answered.AddRange(fresh.Where(Answered));
            return runtimes.Count > 0
                ? new ProfilingSample(p, o, runtimes.Min()) { Trial = keys.Length == 1 ? keys[0].Trial : null }
                : throw new AdaptiveStop(ProfilingStopReason.Unanswered);
        }
    }

    // An adaptive run's requests: one at a time, so concurrency 1, slot 0.
    private ApiRequestKey AdaptiveKey(int p, int o, int trial) => new(p, o, trial, 1, 0, _options.Stream);

    // A request that measured a runtime (failed and suspect answers carry none the planner or the fit can use).
    private static bool Answered(ApiSampleRecord r) => r.Status == ApiSampleStatus.Succeeded && r.RuntimeSeconds is > 0;

    private AdaptiveProfilingPlanner Planner()
        => AdaptiveProfilingPlanner.ForTrialsPerQuery(_options.PromptTokens, _options.OutputTokens, _options.Trials);

    // What the planner has already measured: with one trial a query, every answered request (a configuration's second one is a
    // repeated anchor); with several, one sample per configuration whose trials are all finished (the fastest answer), so a
    // query cut short by a stop is asked again and sends only its missing trials.
    private List<ProfilingSample> PlannerSamples(List<ApiSampleRecord> answered, HashSet<ApiRequestKey> finished)
    {
        if (_options.Trials == 1)
        {
            return answered.Select(r => new ProfilingSample(r.PromptTokens, r.OutputTokens, r.RuntimeSeconds!.Value) { Trial = r.Trial }).ToList();
        }

        return answered
            .GroupBy(r => (r.PromptTokens, r.OutputTokens))
            .Where(g => Enumerable.Range(0, _options.Trials).All(t => finished.Contains(AdaptiveKey(g.Key.PromptTokens, g.Key.OutputTokens, t))))
            .Select(g => new ProfilingSample(g.Key.PromptTokens, g.Key.OutputTokens, g.Min(r => r.RuntimeSeconds!.Value)))
            .ToList();
    }

    // The fit of every answered request, with the planner's own estimate at the candidates not measured; null while the seed is
    // unfinished. Requests count at the sizes asked, the planner's candidates (a chat template's extra prompt tokens would
    // otherwise leave every candidate "unmeasured"); an answer of another length than asked is left out, as the fit leaves it.
    private PlanAssessment? Assess(IReadOnlyList<ApiSampleRecord> records, CancellationToken cancellationToken)
    {
        try
        {
            return Planner().Assess(PlannerInput(records), cancellationToken: cancellationToken);
        }
        catch (ArgumentException ex)
        {
            _logger.LogWarning("The adaptive run's answers cannot be fitted yet: {Reason}", ex.Message);
            return null;
        }
    }

    private static List<ProfilingSample> PlannerInput(IReadOnlyList<ApiSampleRecord> records)
        => records
            .Where(r => r.Concurrency == 1 && Answered(r) && (r.ReportedOutputTokens ?? r.OutputTokens) == r.OutputTokens)
            .Select(r => new ProfilingSample(r.PromptTokens, r.OutputTokens, r.RuntimeSeconds!.Value) { Trial = r.Trial, Source = r.Endpoint })
            .ToList();

    private sealed class AdaptiveStop(ProfilingStopReason reason) : Exception
    {
        public ProfilingStopReason Reason { get; } = reason;
    }
}
