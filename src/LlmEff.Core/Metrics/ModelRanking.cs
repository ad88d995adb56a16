namespace LlmEff.Core.Metrics;

/// <summary>Ranks models by a <see cref="RankingObjective"/> (the paper's Figure 10).</summary>
public static class ModelRanking
{
    /// <summary>
    /// Scores every point and sorts by score, best first; equal scores share a rank (standard competition ranking)
    /// and are listed by label (ordinal), so the result is deterministic.
    /// </summary>
    public static IReadOnlyList<RankedModel> Rank(IEnumerable<CapabilityEfficiencyPoint> points, RankingObjective objective)
    {
        ArgumentNullException.ThrowIfNull(points);
        ArgumentNullException.ThrowIfNull(objective);
        var scored = points
            .Select(p => (Point: p, Score: objective.Score(p.Capability, p.EfficiencyMetric)))
            .OrderByDescending(x => x.Score)
            .ThenBy(x => x.Point.Label, StringComparer.Ordinal)
            .ToArray();
        var result = new RankedModel[scored.Length];
        for (var i = 0; i < scored.Length; i++)
        {
            var rank = i > 0 && scored[i].Score == scored[i - 1].Score ? result[i - 1].Rank : i + 1;
            result[i] = new RankedModel(scored[i].Point.Label, scored[i].Point.Capability, scored[i].Point.EfficiencyMetric, scored[i].Score, rank);
        }

        return result;
    }
}
