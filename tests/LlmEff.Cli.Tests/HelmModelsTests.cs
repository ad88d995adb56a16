using System.Globalization;
using System.Text.Json;
using LlmEff.Tests.Shared;

namespace LlmEff.Cli.Tests;

/// <summary>
/// <c>helm:NAME</c> / <c>helm-denoised:NAME</c> models read at run time from HELM's efficiency tables in
/// ../shared/data/helm (stanford-crfm/helm efficiency_data); expected values are read from the same JSON here.
/// </summary>
public class HelmModelsTests
{
    private const string Idealized = "helm/inference_idealized_runtimes.json";
    private const string Denoised = "helm/inference_denoised_runtimes.json";

    private static string TablesDirectory() => Path.GetDirectoryName(SharedData.Require(Idealized))!;

    private static JsonElement Entry(string relativePath, string name)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(SharedData.Require(relativePath)));
        return doc.RootElement.GetProperty(name).Clone();
    }

    private static double PromptSeconds(JsonElement entry, int p) => entry.GetProperty("runtime_for_prompt_tokens").GetProperty(p.ToString(CultureInfo.InvariantCulture)).GetDouble();

    private static JsonElement EstimateJson(params string[] args)
    {
        var (code, output, err) = CliRunner.Run(["estimate", "--json", .. args]);
        Assert.True(code == 0, err);
        using var doc = JsonDocument.Parse(output);
        return doc.RootElement.GetProperty("models")[0].Clone();
    }

    [Fact]
    public void Estimate_HelmBloom_GAndPromptEncodingEqualHelmsTable()
    {
        var dir = TablesDirectory();
        var bloom = Entry(Idealized, "together/bloom");

        var row = EstimateJson("-m", "helm:together/bloom", "--helm-tables", dir);

        Assert.Equal("helm:together/bloom", row.GetProperty("model").GetString());
        Assert.Equal(bloom.GetProperty("runtime_per_output_token").GetDouble(), row.GetProperty("per_output_token_seconds").GetDouble(), 1e-12);
        // 512 is one of HELM's keys, so PE(512) is the table's value in either PE mode.
        Assert.Equal(PromptSeconds(bloom, 512), row.GetProperty("prompt_encoding_512_seconds").GetDouble(), 1e-12);
        // Table 1 runs BLOOM on 8 A100s, so the idealized cost is priced on the A100-80GB by default.
        Assert.Equal(8, row.GetProperty("accelerators").GetInt32());
        Assert.Equal("A100-80GB", row.GetProperty("accelerator").GetString());
    }

    [Fact]
    public void Estimate_HelmBloom_OffKeyPrompt_FollowsHelmsEstimatorUnlessInterpolating()
    {
        var dir = TablesDirectory();
        var bloom = Entry(Idealized, "together/bloom");
        var g = bloom.GetProperty("runtime_per_output_token").GetDouble();
        using var temp = new TempDir();
        // One query, p = 300 (between HELM's keys 256 and 320), o = 11.
        var workload = temp.File("one.csv", "prompt_tokens,output_tokens\n300,11\n");

        var helm = EstimateJson("-m", "helm:together/bloom", "--helm-tables", dir, "-w", workload);
        var interpolated = EstimateJson("-m", "helm:together/bloom", "--helm-tables", dir, "-w", workload, "--helm-interpolate");

        // HELM: the next key (320) scaled by p/key; interpolation: linear between 256 and 320. Plus (o - 1)·g.
        var helmExpected = (PromptSeconds(bloom, 320) * 300 / 320) + (10 * g);
        var interpolatedExpected = PromptSeconds(bloom, 256) + ((PromptSeconds(bloom, 320) - PromptSeconds(bloom, 256)) * (300 - 256) / 64.0) + (10 * g);
        Assert.Equal(helmExpected, helm.GetProperty("total_seconds").GetDouble(), 1e-9);
        Assert.Equal(interpolatedExpected, interpolated.GetProperty("total_seconds").GetDouble(), 1e-9);
        Assert.NotEqual(helmExpected, interpolatedExpected, 1e-6);
    }

    [Fact]
    public void Estimate_HelmDenoised_CarriesHelmsOverhead()
    {
        var dir = TablesDirectory();
        var davinci = Entry(Denoised, "openai/davinci");
        using var temp = new TempDir();
        var workload = temp.File("one.csv", "prompt_tokens,output_tokens\n512,1\n");

        var row = EstimateJson("-m", "helm-denoised:openai/davinci", "--helm-tables", dir, "-w", workload);

        // o = 1: PE(512) + overhead, both straight from the denoised table.
        Assert.Equal(PromptSeconds(davinci, 512) + davinci.GetProperty("overhead").GetDouble(), row.GetProperty("total_seconds").GetDouble(), 1e-9);
        Assert.Equal("helm-denoised:openai/davinci", row.GetProperty("model").GetString());
    }

    [Fact]
    public void Estimate_WithoutHelmTablesOption_FindsSharedDataAboveTheTool()
    {
        _ = TablesDirectory();
        if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable("LLMEFF_HELM_TABLES")) || !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("LLMEFF_SHARED_DATA")))
        {
            Assert.Skip("an environment variable chooses the tables; this test covers the walk up to shared/data/helm/.");
        }

        var g = Entry(Idealized, "openai/davinci").GetProperty("runtime_per_output_token").GetDouble();

        var row = EstimateJson("-m", "helm:openai/davinci");

        Assert.Equal(g, row.GetProperty("per_output_token_seconds").GetDouble(), 1e-12);
    }

    [Fact]
    public void Estimate_UnknownHelmName_SuggestsTheClosest()
    {
        var dir = TablesDirectory();

        var result = CliRunner.Run("estimate", "-m", "helm:together/blom", "--helm-tables", dir);

        CliRunner.AssertOneLineError(result, "'together/blom'", "'helm:together/bloom'");
    }

    [Fact]
    public void Estimate_MissingTables_OneLineNamingTheThreeWays()
    {
        using var empty = new TempDir();

        var result = CliRunner.Run("estimate", "-m", "helm:together/bloom", "--helm-tables", empty.Path);

        CliRunner.AssertOneLineError(result, empty.Path, "--helm-tables DIR", "LLMEFF_HELM_TABLES", "shared/data/helm/");
    }

    [Fact]
    public void Compare_HelmAgainstShippedH100Profile_Works()
    {
        var dir = TablesDirectory();

        var (code, output, err) = CliRunner.Run("compare", "helm:openai/davinci", "table1-openai-davinci-h100-tp8", "--helm-tables", dir, "--json");

        Assert.True(code == 0, err);
        Assert.Contains("helm:openai/davinci", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Models_WithTables_ListsEveryHelmModel()
    {
        var dir = TablesDirectory();
        using var idealized = JsonDocument.Parse(File.ReadAllText(SharedData.Require(Idealized)));
        using var denoised = JsonDocument.Parse(File.ReadAllText(SharedData.Require(Denoised)));

        var (code, output, err) = CliRunner.Run("models", "--json", "--helm-tables", dir);

        Assert.True(code == 0, err);
        using var doc = JsonDocument.Parse(output);
        var names = doc.RootElement.GetProperty("helm_models").EnumerateArray().Select(m => m.GetProperty("name").GetString()).ToHashSet();
        foreach (var p in idealized.RootElement.EnumerateObject())
        {
            Assert.Contains("helm:" + p.Name, names);
        }

        foreach (var p in denoised.RootElement.EnumerateObject())
        {
            Assert.Contains("helm-denoised:" + p.Name, names);
        }

        var tnlg = doc.RootElement.GetProperty("helm_models").EnumerateArray().Single(m => m.GetProperty("name").GetString() == "helm:microsoft/TNLGv2_530B");
        Assert.Equal(24, tnlg.GetProperty("accelerator_count").GetInt32());
        // The JSON holds the text table's PE(512) column too.
        Assert.Equal(LlmEff.Core.Catalog.ModelCatalog.Resolve("helm:microsoft/TNLGv2_530B", helm: new LlmEff.Core.Catalog.HelmTableOptions(dir)).Model.PromptEncodingSeconds(512), tnlg.GetProperty("prompt_encoding_512_seconds").GetDouble(), 12);
    }

    [Fact]
    public void Models_WithoutTables_SaysHowToProvideThem()
    {
        using var empty = new TempDir();

        var (code, output, _) = CliRunner.Run("models", "--helm-tables", empty.Path);

        Assert.Equal(0, code);
        Assert.Contains("HELM efficiency tables", output, StringComparison.Ordinal);
        Assert.Contains("--helm-tables DIR", output, StringComparison.Ordinal);
        Assert.Contains("LLMEFF_HELM_TABLES", output, StringComparison.Ordinal);
        Assert.DoesNotContain("helm:together/bloom", output, StringComparison.Ordinal);
    }
}
