using LlmEff.Core;
using LlmEff.Core.Planning;
using Microsoft.Extensions.Logging;

namespace LlmEff.Profiling.Torch;

// Adaptive plans (ProfilingPlan.AdaptiveBudget): LlmEff.Core's planner chooses the configurations.
public sealed partial class TorchProfiler
{
    /// <summary>
    /// Lets the planner choose <see cref="ProfilingPlan.AdaptiveBudget"/> queries among the plan's candidates; each query
    /// times the configuration's trials through <paramref name="time"/>, which writes every sample as it is measured. A
    /// resumed run hands the planner what the file holds, so it asks the same queries again and times only what is missing.
    /// </summary>
    private void RunAdaptive(ProfilingPlan plan, Dictionary<(int P, int O, int Trial), ProfilingSample> done, Func<int, int, int, ProfilingSample> time, CancellationToken cancellationToken)
    {
        var planner = Planner(plan);
        var trials = plan.Trials;
        try
        {
            planner.RunAsync(plan.AdaptiveBudget!.Value, Measure, PlannerSamples(plan, done), progress: null, cancellationToken).GetAwaiter().GetResult();
        }
        catch (TargetReached)
        {
            // The plan's target is met: the samples so far are the run.
        }

        // Synchronous: every TorchSharp call stays on the profiling thread.
        ValueTask<ProfilingSample> Measure(ConfigurationQuery query, CancellationToken ct)
        {
            // The target is checked on every sample, trials included (the planner sees one sample a configuration).
            if (plan.AdaptiveTargetP90 is { } target && planner.AssessmentMeetingTarget(done.Where(d => plan.IsCandidate(d.Key.P, d.Key.O)).Select(d => d.Value), target, ct) is { } assessment)
            {
                _logger.LogInformation("Target reached: estimated held-out p90 {Estimate:P2} at or below {Target:P2}, noise read from {Repeated} repeated queries; stopping before the budget.", assessment.EstimatedHeldOutError!.P90, target, assessment.RepeatedConfigurations);
                throw new TargetReached();
            }

            var (p, o) = (query.PromptTokens, query.OutputTokens);
            if (trials == 1)
            {
                // One trial a query: a query asked again is the planner's repeated anchor, the configuration's next trial.
                var next = Enumerable.Range(0, int.MaxValue).First(t => !done.ContainsKey((p, o, t)));
                return ValueTask.FromResult(time(p, o, next));
            }

            for (var t = 0; t < trials; t++)
            {
                if (!done.ContainsKey((p, o, t)))
                {
                    time(p, o, t);
                }
            }

            return ValueTask.FromResult(Fastest(done, p, o, trials));
        }
    }

    /// <summary>The planner of an adaptive plan (<see cref="AdaptiveProfilingPlanner.ForTrialsPerQuery"/>).</summary>
    internal static AdaptiveProfilingPlanner Planner(ProfilingPlan plan)
        => AdaptiveProfilingPlanner.ForTrialsPerQuery(plan.PromptTokens, plan.OutputTokens, plan.Trials);

    // What the planner has measured already: with one trial a query, every sample at a candidate (a configuration's second is a
    // repeated anchor); with several, one per configuration whose trials are all in the file (the fastest), so a query cut short
    // is asked again and times only its missing trials.
    private static List<ProfilingSample> PlannerSamples(ProfilingPlan plan, Dictionary<(int P, int O, int Trial), ProfilingSample> done)
    {
        var candidates = done.Keys.Where(k => plan.IsCandidate(k.P, k.O)).ToList();
        if (plan.Trials == 1)
        {
            return candidates.OrderBy(k => k.Trial).Select(k => done[k]).ToList();
        }

        return candidates
            .Select(k => (k.P, k.O))
            .Distinct()
            .Where(c => Enumerable.Range(0, plan.Trials).All(t => done.ContainsKey((c.P, c.O, t))))
            .Select(c => Fastest(done, c.P, c.O, plan.Trials))
            .ToList();
    }

    private static ProfilingSample Fastest(Dictionary<(int P, int O, int Trial), ProfilingSample> done, int p, int o, int trials)
        => new(p, o, Enumerable.Range(0, trials).Min(t => done[(p, o, t)].RuntimeSeconds));

    private sealed class TargetReached : Exception
    {
    }
}
