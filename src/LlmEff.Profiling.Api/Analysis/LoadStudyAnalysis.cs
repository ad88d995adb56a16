using LlmEff.Core;

namespace LlmEff.Profiling.Api;

/// <summary>Runtime against concurrent load (paper Figure 6).</summary>
public static class LoadStudyAnalysis
{
    /// <summary>
    /// Summarises successful records per (requested <c>p</c>, <c>o</c>, load), ordered by configuration then load; the
    /// load is <see cref="ApiSampleRecord.EffectiveConcurrency"/>, the requests really in flight.
    /// </summary>
    /// <param name="records">Journal records of a run with several concurrency levels.</param>
    public static IReadOnlyList<LoadStudyPoint> Analyze(IEnumerable<ApiSampleRecord> records)
    {
        ArgumentNullException.ThrowIfNull(records);
        var points = new List<LoadStudyPoint>();
        var byConfiguration = records
            .Where(r => r.Status == ApiSampleStatus.Succeeded && r.RuntimeSeconds is > 0)
            .GroupBy(r => (r.PromptTokens, r.OutputTokens))
            .OrderBy(g => g.Key.PromptTokens).ThenBy(g => g.Key.OutputTokens);
        foreach (var configuration in byConfiguration)
        {
            // By the load each sample ran at: a retry sent after the rest of its batch finished ran nearly alone.
            var levels = configuration.GroupBy(r => r.EffectiveConcurrency).OrderBy(g => g.Key).ToArray();
            var baseline = levels[0].Min(r => r.RuntimeSeconds!.Value);
            foreach (var level in levels)
            {
                var runtimes = level.Select(r => r.RuntimeSeconds!.Value).ToArray();
                var minimum = runtimes.Min();
                points.Add(new LoadStudyPoint(
                    configuration.Key.PromptTokens,
                    configuration.Key.OutputTokens,
                    level.Key,
                    runtimes.Length,
                    minimum,
                    Percentiles.Median(runtimes),
                    runtimes.Average(),
                    runtimes.Max(),
                    minimum / baseline));
            }
        }

        return points;
    }
}
