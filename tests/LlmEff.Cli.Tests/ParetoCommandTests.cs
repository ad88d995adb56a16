using LlmEff.Tests.Shared;
using System.Text.Json;
using static LlmEff.Cli.Tests.CliRunner;

namespace LlmEff.Cli.Tests;

public class ParetoCommandTests
{
    private const string HelmRuns = "helm-runs/inference_runtimes_and_accuracies_all_scenarios.csv";

    // Hand case: in scenario s1, A (0.5 acc, 1 s) and C (0.9 acc, 4 s) are on the frontier; B (0.4 acc, 2 s) is
    // dominated by A. f1 = acc/t: A 0.5, B 0.2, C 0.225 -> ranks A 1, C 2, B 3.
    // f2 = acc/ln(t/1 ms): A 0.5/6.908 = 0.0724, B 0.4/7.601 = 0.0526, C 0.9/8.294 = 0.1085 -> ranks C 1, A 2, B 3.
    private const string Generic = "model,scenario,accuracy,runtime_s\nA,s1,0.5,1\nB,s1,0.4,2\nC,s1,0.9,4\nA,s2,0.7,1\nB,s2,0.8,3\n";

    [Fact]
    public void Pareto_GenericCsv_FrontierAndRanks()
    {
        using var dir = new TempDir();
        var path = dir.File("acc.csv", Generic);
        var (code, output, err) = Run("pareto", "-a", path, "--metric", "runtime_s", "--scenario", "s1", "--json");

        Assert.True(code == 0, err);
        using var doc = JsonDocument.Parse(output);
        var models = doc.RootElement.GetProperty("scenarios")[0].GetProperty("models").EnumerateArray().ToDictionary(m => m.GetProperty("model").GetString()!);
        Assert.True(models["A"].GetProperty("on_frontier").GetBoolean());
        Assert.False(models["B"].GetProperty("on_frontier").GetBoolean());
        Assert.True(models["C"].GetProperty("on_frontier").GetBoolean());
        Assert.Equal(1, models["A"].GetProperty("f1_rank").GetInt32());
        Assert.Equal(2, models["C"].GetProperty("f1_rank").GetInt32());
        Assert.Equal(3, models["B"].GetProperty("f1_rank").GetInt32());
        Assert.Equal(1, models["C"].GetProperty("f2_rank").GetInt32());
        Assert.Equal(0.9 / Math.Log(4000), models["C"].GetProperty("f2").GetDouble(), 1e-12);
    }

    [Fact]
    public void Pareto_Table_ShowsEveryScenarioAndMeanRanks()
    {
        using var dir = new TempDir();
        var (code, output, err) = Run("pareto", "-a", dir.File("acc.csv", Generic), "--metric", "runtime_s");

        Assert.True(code == 0, err);
        Assert.Contains("scenario s1", output, StringComparison.Ordinal);
        Assert.Contains("scenario s2", output, StringComparison.Ordinal);
        Assert.Contains("mean rank over 2 scenarios", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Pareto_AModelWithoutTheMetric_IsNamedAsLeftOut()
    {
        using var dir = new TempDir();
        var path = dir.File("acc.csv", "model,scenario,accuracy,runtime_s\nA,s1,0.5,\nB,s1,0.4,2\nC,s1,0.9,4\n");
        var (code, output, err) = Run("pareto", "-a", path, "--metric", "runtime_s", "--models", "A", "--models", "B", "--models", "C");

        Assert.True(code == 0, err);
        Assert.Contains("(2 models", output, StringComparison.Ordinal);
        Assert.Contains("A has no 'runtime_s' value in scenario s1; left out of that frontier", err, StringComparison.Ordinal);
    }

    [Fact]
    public void Pareto_MalformedNumber_ReportsLineAndColumn()
    {
        using var dir = new TempDir();
        var path = dir.File("acc.csv", "model,accuracy,runtime_s\nA,0.5,1\nB,0.4,fast\n");
        AssertOneLineError(Run("pareto", "-a", path, "--metric", "runtime_s"), "acc.csv:3:7", "'fast'", "runtime_s");
    }

    [Fact]
    public void Pareto_WrongFieldCount_ReportsLine()
    {
        using var dir = new TempDir();
        var path = dir.File("acc.csv", "model,accuracy,runtime_s\nA,0.5\n");
        AssertOneLineError(Run("pareto", "-a", path, "--metric", "runtime_s"), "acc.csv: line 2, column 3 (runtime_s): missing", "the header has 3");
    }

    [Fact]
    public void Pareto_MissingAccuracyColumn_ListsTheHeader()
    {
        using var dir = new TempDir();
        var path = dir.File("acc.csv", "model,acc,runtime_s\nA,0.5,1\n");
        AssertOneLineError(Run("pareto", "-a", path, "--metric", "runtime_s"), "no 'accuracy' column", "acc");
    }

    [Fact]
    public void Pareto_UnknownMetricAndScenario_SuggestNames()
    {
        using var dir = new TempDir();
        var path = dir.File("acc.csv", Generic);
        AssertOneLineError(Run("pareto", "-a", path, "--metric", "runtime"), "runtime_s");
        AssertOneLineError(Run("pareto", "-a", path, "--metric", "runtime_s", "-s", "s3"), "unknown scenario 's3'", "'s1'");
    }

    [Fact]
    public void Pareto_Dollars_RanksF1AndSaysWhyF2IsLeftOut()
    {
        using var dir = new TempDir();
        var path = dir.File("acc.csv", "model,scenario,accuracy,cost_usd\nA,s1,0.5,0.0001\nB,s1,0.4,0.0002\nC,s1,0.9,0.0004\n");

        var (code, output, err) = Run("pareto", "-a", path, "--metric", "cost_usd", "--json");

        Assert.True(code == 0, err);
        using var doc = JsonDocument.Parse(output);
        var scenario = doc.RootElement.GetProperty("scenarios")[0];
        var a = scenario.GetProperty("models").EnumerateArray().Single(m => m.GetProperty("model").GetString() == "A");
        Assert.Equal(1, a.GetProperty("f1_rank").GetInt32()); // 0.5 / $0.0001 is the best accuracy per dollar
        Assert.False(a.TryGetProperty("f2_rank", out _));
        Assert.Contains("--log-unit", scenario.GetProperty("ranking_note").GetString(), StringComparison.Ordinal);

        var table = Run("pareto", "-a", path, "--metric", "cost_usd");
        Assert.True(table.Code == 0, table.Err);
        Assert.Contains("no f2 ranking", table.Out, StringComparison.Ordinal);
        Assert.False(doc.RootElement.TryGetProperty("mean_ranks", out _)); // one scenario: nothing to rank over
    }

    [Fact]
    public void Pareto_Json_HoldsTheMeanRanksTheTextPrints()
    {
        using var dir = new TempDir();
        var path = dir.File("acc.csv", "model,scenario,accuracy,runtime_s\nA,s1,0.5,1\nB,s1,0.4,2\nA,s2,0.7,1\nB,s2,0.8,3\n");

        var (code, output, err) = Run("pareto", "-a", path, "--metric", "runtime_s", "--json");

        Assert.True(code == 0, err);
        using var doc = JsonDocument.Parse(output);
        var a = doc.RootElement.GetProperty("mean_ranks").EnumerateArray().Single(m => m.GetProperty("model").GetString() == "A");
        Assert.Equal((2, 2), (a.GetProperty("scenarios").GetInt32(), a.GetProperty("on_frontier").GetInt32()));
        Assert.Equal(1.0, a.GetProperty("mean_f1_rank").GetDouble()); // 0.5/1 > 0.4/2 and 0.7/1 > 0.8/3
    }

    [Fact]
    public void Pareto_DuplicateRow_NamesFileLineAndKey()
    {
        using var dir = new TempDir();
        var path = dir.File("acc.csv", "model,scenario,accuracy,runtime_s\nA,s1,0.5,1\nB,s1,0.4,2\nA,s1,0.6,3\n");
        AssertOneLineError(Run("pareto", "-a", path, "--metric", "runtime_s"), "acc.csv:4", "duplicate row", "model 'A' in scenario 's1'", "line 2");
    }

    [Fact]
    public void Pareto_MissingFile_NamesIt()
        => AssertOneLineError(Run("pareto", "-a", "/nonexistent/acc.csv"), "/nonexistent/acc.csv");

    [Theory]
    [InlineData("boolq")]
    [InlineData("imdb")]
    [InlineData("mmlu:subject=college_chemistry")]
    public void Pareto_HelmRuns_DavinciOnRawFrontierButNotIdealized(string scenario)
    {
        // §5.4 "Inconsistent optimizations", among the paper's models present in HELM's file.
        var path = SharedData.Require(HelmRuns);
        string[] paper = ["openai_davinci", "ai21_j1-jumbo", "ai21_j1-grande", "ai21_j1-large", "anthropic_stanford-online-helpful-v4-s3"];
        bool OnFrontier(string metric)
        {
            var (code, output, err) = Run(["pareto", "-a", path, "--metric", metric, "-s", scenario, "--models", .. paper, "--json"]);
            Assert.True(code == 0, err);
            using var doc = JsonDocument.Parse(output);
            return doc.RootElement.GetProperty("scenarios")[0].GetProperty("models").EnumerateArray()
                .Single(m => m.GetProperty("model").GetString() == "openai_davinci").GetProperty("on_frontier").GetBoolean();
        }

        Assert.True(OnFrontier("raw"));
        Assert.False(OnFrontier("idealized"));
    }

    [Fact]
    public void Pareto_HelmRuns_DenoisedFromHelmTable()
    {
        var path = SharedData.Require(HelmRuns);
        var table = SharedData.Require("helm/inference_denoised_runtimes.json");
        var (code, output, err) = Run("pareto", "-a", path, "--metric", "denoised", "--denoised-table", table, "-s", "boolq", "--json");

        Assert.True(code == 0, err);
        using var doc = JsonDocument.Parse(output);
        var davinci = doc.RootElement.GetProperty("scenarios")[0].GetProperty("models").EnumerateArray().Single(m => m.GetProperty("model").GetString() == "openai_davinci");

        // HELM's denoised davinci table at the boolq row's mean tokens (1244.746667 -> 1245 prompt, 1 output, from the
        // CSV), estimated with HELM's own next-key rule as helm-denoised: names are, and below the raw 0.662 s HELM
        // measured for that row, as a denoised runtime should be.
        var helm = LlmEff.Core.Catalog.HelmEfficiencyTables.ReadFile(table, LlmEff.Core.PromptEncodingMode.HelmNextKeyScaled, LlmEff.Core.RuntimeMetric.Denoised);
        Assert.Equal(
            LlmEff.Core.Catalog.ModelCatalog.Resolve("helm-denoised:openai/davinci", helm: new LlmEff.Core.Catalog.HelmTableOptions(Path.GetDirectoryName(table))).Model.Predict(1245, 1),
            davinci.GetProperty("metric").GetDouble(),
            1e-12);
        Assert.Equal(helm["openai/davinci"].Predict(1245, 1), davinci.GetProperty("metric").GetDouble(), 1e-12);
        Assert.InRange(davinci.GetProperty("metric").GetDouble(), 0.0, 0.6624278116);
        AssertOneLineError(Run("pareto", "-a", path, "--metric", "denoised"), "--denoised-table");
    }
}
