using LlmEff.Core.Metrics;

namespace LlmEff.Cli.Pareto;

/// <summary>One scenario's capability–efficiency points, which are on the Pareto frontier, and the f1/f2 rankings (paper §5.4).</summary>
internal sealed record ScenarioFrontier(
    string Scenario,
    IReadOnlyList<CapabilityEfficiencyPoint> Points,
    IReadOnlyList<bool> OnFrontier,
    IReadOnlyList<RankedModel> F1,
    IReadOnlyList<RankedModel> F2)
{
    /// <summary>Per scenario with at least <paramref name="minimumModels"/> models that have <paramref name="metric"/>, in scenario order.</summary>
    public static IReadOnlyList<ScenarioFrontier> Compute(IEnumerable<AccuracyRow> rows, string metric, RankingObjective f2, int minimumModels)
        => rows
            .Where(r => r.Metrics.ContainsKey(metric))
            .GroupBy(r => r.Scenario, StringComparer.Ordinal)
            .Where(g => g.Count() >= minimumModels)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g =>
            {
                var points = g.Select(r => new CapabilityEfficiencyPoint(r.Model, r.Accuracy, r.Metrics[metric])).ToArray();
                return new ScenarioFrontier(
                    g.Key,
                    points,
                    ParetoFrontier.Membership(points),
                    ModelRanking.Rank(points, RankingObjective.AccuracyPerRuntime),
                    ModelRanking.Rank(points, f2));
            })
            .ToArray();
}
