using LlmEff.Core.Metrics;
using LlmEff.Tests.Shared;

namespace LlmEff.Core.Tests.Metrics;

public class ScenarioFrontierTests
{
    // s1: A (0.5, 1 s) and C (0.9, 4 s) on the frontier, B (0.4, 2 s) dominated by A; s2 has two models.
    private const string Generic = "model,scenario,accuracy,runtime_s,cost_usd\nA,s1,0.5,1,0.0001\nB,s1,0.4,2,0.0002\nC,s1,0.9,4,0.0004\nA,s2,0.7,1,\nB,s2,0.8,3,0.0003\n";

    private static IReadOnlyList<AccuracyRow> Rows(string csv = Generic) => AccuracyTable.Read(new StringReader(csv), "acc.csv");

    [Fact]
    public void Read_Generic_KeepsEmptyCellsOutOfTheMetrics()
    {
        var rows = Rows();

        Assert.Equal(5, rows.Count);
        var a2 = rows.Single(r => r.Model == "A" && r.Scenario == "s2");
        Assert.Equal(0.7, a2.Accuracy);
        Assert.Equal(1, a2.Metrics["runtime_s"]);
        Assert.False(a2.Metrics.ContainsKey("cost_usd"));
    }

    [Fact]
    public void Analyze_Runtime_FrontierAndBothRankings()
    {
        var s1 = ScenarioFrontier.Analyze(Rows(), new ScenarioFrontierOptions("runtime_s") { Scenarios = ["s1"] }).Single();

        Assert.Equal([true, false, true], s1.OnFrontier);
        // f1 = acc/t: A 0.5, C 0.225, B 0.2; f2 = acc/ln(t/1 ms): C 0.9/ln 4000 first.
        Assert.Equal(["A", "C", "B"], s1.F1!.Select(r => r.Label));
        Assert.Equal("C", s1.F2![0].Label);
        Assert.Equal(0.9 / Math.Log(4000), s1.F2[0].Score, 1e-12);
        Assert.Null(s1.RankingNote);
    }

    [Fact]
    public void ModelMeanRank_OverBothScenarios()
    {
        var frontiers = ScenarioFrontier.Analyze(Rows(), new ScenarioFrontierOptions("runtime_s"));

        // f1 ranks: s1 A 1, C 2, B 3; s2 A 1 (0.7 / 1 s), B 2 (0.8 / 3 s).
        var ranks = ModelMeanRank.Over(frontiers);

        Assert.Equal(["A", "C", "B"], ranks.Select(r => r.Model));
        Assert.Equal(new ModelMeanRank("A", 2, 2, 1.0, ranks[0].MeanF2Rank), ranks[0]);
        Assert.Equal(2.5, ranks[2].MeanF1Rank);
        Assert.Equal(1, ranks[2].OnFrontier);
    }

    [Fact]
    public void Analyze_Dollars_BelowTheLogUnit_LeaveF2OutAndSayWhy()
    {
        var frontiers = ScenarioFrontier.Analyze(Rows(), new ScenarioFrontierOptions("cost_usd"), "acc.csv");

        var s1 = Assert.Single(frontiers); // s2 has one model with a cost
        Assert.Equal("s1", s1.Scenario);
        Assert.NotNull(s1.F1);
        Assert.Null(s1.F2);
        Assert.Contains("log unit", s1.RankingNote, StringComparison.Ordinal);

        // With a unit in the metric's own scale, f2 applies again.
        var scaled = ScenarioFrontier.Analyze(Rows(), new ScenarioFrontierOptions("cost_usd") { LogUnit = 1e-6 }).Single();
        Assert.NotNull(scaled.F2);
    }

    [Fact]
    public void Compute_WithoutRanking_GivesTheFrontierOnly()
    {
        var s1 = ScenarioFrontier.Compute(Rows(), new ScenarioFrontierOptions("cost_usd") { Rank = false }).Single(s => s.Scenario == "s1");

        Assert.Null(s1.F1);
        Assert.Null(s1.F2);
        Assert.Null(s1.RankingNote);
        Assert.Equal([true, false, true], s1.OnFrontier); // B costs more than A and is less accurate
    }

    [Fact]
    public void Analyze_ZeroMetric_LeavesBothRankingsOut()
    {
        var rows = Rows("model,accuracy,energy_j\nA,0.5,0\nB,0.6,2\n");
        var all = ScenarioFrontier.Analyze(rows, new ScenarioFrontierOptions("energy_j")).Single();
        Assert.Equal("all", all.Scenario);
        Assert.Null(all.F1);
        Assert.Contains("positive", all.RankingNote, StringComparison.Ordinal);
    }

    [Fact]
    public void Analyze_UnknownNames_NameTheClosest()
    {
        var rows = Rows();
        Assert.Contains("'runtime_s'", Assert.Throws<KeyNotFoundException>(() => ScenarioFrontier.Analyze(rows, new ScenarioFrontierOptions("runtime"))).Message, StringComparison.Ordinal);
        Assert.Contains("unknown scenario 's3'", Assert.Throws<KeyNotFoundException>(() => ScenarioFrontier.Analyze(rows, new ScenarioFrontierOptions("runtime_s") { Scenarios = ["s3"] })).Message, StringComparison.Ordinal);
        Assert.Contains("unknown model 'D'", Assert.Throws<KeyNotFoundException>(() => ScenarioFrontier.Analyze(rows, new ScenarioFrontierOptions("runtime_s") { Models = ["D"] })).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => ScenarioFrontier.Analyze(rows, new ScenarioFrontierOptions("runtime_s") { MinimumModels = 4 }));
        Assert.Throws<ArgumentException>(() => ScenarioFrontier.Analyze(rows, new ScenarioFrontierOptions("runtime_s") { MinimumModels = 0 }));
    }

    [Fact]
    public void Read_NegativeMetricOrAccuracy_IsRefused_NotPutOnTheFrontier()
    {
        // A negative runtime would dominate every real model.
        var metric = Assert.Throws<InvalidDataException>(() => Rows("model,accuracy,idealized\na,0.5,-1.2\nb,0.7,2\n"));
        Assert.StartsWith("acc.csv:2:", metric.Message, StringComparison.Ordinal);
        Assert.Contains("'idealized' is negative", metric.Message, StringComparison.Ordinal);
        Assert.Contains("'accuracy' is negative", Assert.Throws<InvalidDataException>(() => Rows("model,accuracy,idealized\na,-3,1\n")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_AccuracyScales_FractionsOrPercentages_NotMixed()
    {
        // 1.5 beside 0.7 and 0.9 would top the frontier; 150 beside percentages is above any percentage.
        var mixed = Assert.Throws<InvalidDataException>(() => Rows("model,accuracy,runtime\na,0.7,1\nb,1.5,2\nc,0.9,3\n"));
        Assert.StartsWith("acc.csv:3:", mixed.Message, StringComparison.Ordinal);
        Assert.Contains("above 1 while most of the column are fractions", mixed.Message, StringComparison.Ordinal);
        Assert.Contains("every accuracy as a fraction in [0, 1] or every one as a percentage in [0, 100]", mixed.Message, StringComparison.Ordinal);
        var over = Assert.Throws<InvalidDataException>(() => Rows("model,accuracy,runtime\na,70,1\nb,150,2\nc,100,3\n"));
        Assert.StartsWith("acc.csv:3:", over.Message, StringComparison.Ordinal);
        Assert.Contains("above 100", over.Message, StringComparison.Ordinal);

        // One scale per column is fine, zeros and 1 % included, and a percentage column may hold a score under 1 %.
        Assert.Equal(3, Rows("model,accuracy,runtime\na,70,1\nb,0,2\nc,1,3\n").Count);
        Assert.Equal(3, Rows("model,accuracy,runtime\na,70,1\nb,0.8,2\nc,45,3\n").Count);
        Assert.Equal(3, Rows("model,accuracy,runtime\na,0.7,1\nb,1,2\nc,0,3\n").Count);
    }

    [Fact]
    public void Read_HeaderOnly_SaysThereAreNoRows_NotThatTheMetricIsMissing()
    {
        var ex = Assert.Throws<InvalidDataException>(() => Rows("model,accuracy,runtime\n"));
        Assert.StartsWith("acc.csv: no data rows", ex.Message, StringComparison.Ordinal);
        var analyze = Assert.Throws<ArgumentException>(() => ScenarioFrontier.Analyze([], new ScenarioFrontierOptions("runtime"), "hdr.csv"));
        Assert.StartsWith("hdr.csv has no data rows", analyze.Message, StringComparison.Ordinal);
        // Rows without any metric value: no "it has . Closest: ." either.
        var empty = Assert.Throws<KeyNotFoundException>(() => ScenarioFrontier.Analyze(Rows("model,accuracy,runtime\na,0.5,\n"), new ScenarioFrontierOptions("runtime")));
        Assert.DoesNotContain("Closest", empty.Message, StringComparison.Ordinal);
        Assert.Contains("fill in the metric", empty.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_DuplicateRow_NamesFileLinesAndKey()
    {
        var ex = Assert.Throws<InvalidDataException>(() => Rows("model,scenario,accuracy,runtime_s\nA,s1,0.5,1\nB,s1,0.4,2\nA,s1,0.6,3\n"));

        Assert.StartsWith("acc.csv:4:", ex.Message, StringComparison.Ordinal);
        Assert.Contains("model 'A' in scenario 's1'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("line 2", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadFile_MissingFile_NamesIt()
    {
        var ex = Assert.Throws<FileNotFoundException>(() => AccuracyTable.ReadFile("/nonexistent/acc.csv"));
        Assert.Contains("/nonexistent/acc.csv", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadFile_HelmRuns_RawAndIdealizedPerScenario()
    {
        var rows = AccuracyTable.ReadFile(SharedData.Require("helm-runs/inference_runtimes_and_accuracies_all_scenarios.csv"));

        var davinci = rows.Single(r => r.Scenario == "boolq" && r.Model == "openai_davinci");
        Assert.True(davinci.Metrics["raw"] > davinci.Metrics["idealized"]);
        Assert.Contains(ScenarioFrontier.Analyze(rows, new ScenarioFrontierOptions("idealized") { Scenarios = ["boolq"] }), s => s.Points.Count > 5);
    }
}
