namespace LlmEff.Core.Metrics;

/// <summary>One model's standing over several scenarios' frontiers (the paper's Figure 10): how often it is on the frontier and its mean ranks.</summary>
/// <param name="Model">The model's name.</param>
/// <param name="Scenarios">Scenarios the model appears in.</param>
/// <param name="OnFrontier">Of those, how many have it on the Pareto frontier.</param>
/// <param name="MeanF1Rank">Mean f1 rank over those scenarios; null when one of them has no f1 ranking.</param>
/// <param name="MeanF2Rank">Mean f2 rank over those scenarios; null when one of them has no f2 ranking.</param>
public sealed record ModelMeanRank(string Model, int Scenarios, int OnFrontier, double? MeanF1Rank, double? MeanF2Rank)
{
    /// <summary>Every model of <paramref name="frontiers"/>, best mean f1 rank first (models without one last), then by name.</summary>
    /// <param name="frontiers">Per-scenario frontiers, e.g. from <see cref="ScenarioFrontier.Analyze"/>.</param>
    public static IReadOnlyList<ModelMeanRank> Over(IEnumerable<ScenarioFrontier> frontiers)
    {
        ArgumentNullException.ThrowIfNull(frontiers);
        return frontiers
            .SelectMany(s => s.Points.Select((p, i) => (p.Label, OnFrontier: s.OnFrontier[i], F1: RankOf(s.F1, p.Label), F2: RankOf(s.F2, p.Label))))
            .GroupBy(x => x.Label, StringComparer.Ordinal)
            .Select(g => new ModelMeanRank(g.Key, g.Count(), g.Count(x => x.OnFrontier), MeanOrNull(g.Select(x => x.F1)), MeanOrNull(g.Select(x => x.F2))))
            .OrderBy(m => m.MeanF1Rank ?? double.MaxValue)
            .ThenBy(m => m.Model, StringComparer.Ordinal)
            .ToArray();
    }

    private static int? RankOf(IReadOnlyList<RankedModel>? ranking, string label) => ranking?.First(r => r.Label == label).Rank;

    // A mean over scenarios only where every scenario the model is in has that ranking, so means stay comparable.
    private static double? MeanOrNull(IEnumerable<int?> ranks)
    {
        var all = ranks.ToArray();
        return all.All(r => r is not null) ? all.Average(r => (double)r!.Value) : null;
    }
}
