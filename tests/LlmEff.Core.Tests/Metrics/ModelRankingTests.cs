using LlmEff.Core.Metrics;

namespace LlmEff.Core.Tests.Metrics;

public class ModelRankingTests
{
    private static readonly CapabilityEfficiencyPoint[] Points =
    [
        new("fast", 0.6, 0.2),   // f1 = 3.0;  f2 (ms) = 0.6 / ln 200  = 0.11324
        new("big", 0.9, 0.8),    // f1 = 1.125; f2 (ms) = 0.9 / ln 800  = 0.13464
        new("mid", 0.75, 0.5),   // f1 = 1.5;  f2 (ms) = 0.75 / ln 500 = 0.12068
    ];

    [Fact]
    public void AccuracyPerRuntime_IsF1()
    {
        var ranked = ModelRanking.Rank(Points, RankingObjective.AccuracyPerRuntime);
        Assert.Equal(["fast", "mid", "big"], ranked.Select(r => r.Label));
        Assert.Equal([1, 2, 3], ranked.Select(r => r.Rank));
        Assert.Equal(3.0, ranked[0].Score, 1e-12);
        Assert.Equal(1.125, ranked[2].Score, 1e-12);
    }

    [Fact]
    public void AccuracyPerLogRuntime_InMilliseconds_DeEmphasisesRuntime()
    {
        // f2 with runtime in ms (values in the comments above): the most accurate model now ranks first, as §5.4 describes.
        var ranked = ModelRanking.Rank(Points, RankingObjective.AccuracyPerLogRuntime());
        Assert.Equal(["big", "mid", "fast"], ranked.Select(r => r.Label));
        Assert.Equal(0.9 / Math.Log(800), ranked[0].Score, 1e-12);
        Assert.Equal(0.13464, ranked[0].Score, 1e-5);
    }

    [Fact]
    public void AccuracyPerLogRuntime_InSeconds_RejectsSubSecondRuntimes()
    {
        // ln(0.5 s) < 0 would flip the ranking; the objective refuses instead of mis-ranking.
        var seconds = RankingObjective.AccuracyPerLogRuntime(runtimeUnitSeconds: 1.0);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => seconds.Score(0.8, 0.5));
        Assert.Contains("smaller runtime unit", e.Message);
        Assert.Equal(0.8 / Math.Log(2.5), seconds.Score(0.8, 2.5), 1e-12);
        Assert.Throws<ArgumentOutOfRangeException>(() => RankingObjective.AccuracyPerLogRuntime(0));
    }

    [Fact]
    public void EqualScoresShareARank_AndCustomObjectivesWork()
    {
        var capabilityOnly = RankingObjective.Create("capability", (capability, _) => capability);
        var ranked = ModelRanking.Rank([new("b", 0.5, 1), new("a", 0.5, 2), new("c", 0.9, 3), new("d", 0.1, 1)], capabilityOnly);
        Assert.Equal(["c", "a", "b", "d"], ranked.Select(r => r.Label));
        Assert.Equal([1, 2, 2, 4], ranked.Select(r => r.Rank));
        Assert.Equal("capability", capabilityOnly.Name);

        var nan = RankingObjective.Create("broken", (_, _) => double.NaN);
        Assert.Throws<ArgumentException>(() => ModelRanking.Rank(Points, nan));
        Assert.Throws<ArgumentOutOfRangeException>(() => RankingObjective.AccuracyPerRuntime.Score(0.5, 0));
    }
}
