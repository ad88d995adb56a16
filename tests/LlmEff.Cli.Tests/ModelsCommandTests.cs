using System.Text.Json;
using LlmEff.Core.Architecture;
using LlmEff.Core.Hardware;
using LlmEff.Core.Metrics;
using LlmEff.Core.Reference;
using LlmEff.Core.Workloads;
using static LlmEff.Cli.Tests.CliRunner;

namespace LlmEff.Cli.Tests;

public class ModelsCommandTests
{
    [Fact]
    public void Models_ListsTable3WithProvenanceAndTheRooflineCatalog()
    {
        var (code, output, err) = Run("models");

        Assert.Equal(0, code);
        Assert.Empty(err);
        foreach (var row in PaperTable3.All)
        {
            Assert.Contains(row.ModelName, output, StringComparison.Ordinal);
        }

        Assert.Contains("table3-denoised", output, StringComparison.Ordinal);
        Assert.Contains("arXiv 2305.02440", output, StringComparison.Ordinal);
        Assert.Contains("Megatron-LM", output, StringComparison.Ordinal);
        // Each software stack is spelled out once in the legend; the profiles' table rows name it by key and stay short.
        var stacks = LlmEff.Core.Catalog.ModelCatalog.Profiles.Select(p => p.Model.Metadata.Software).OfType<string>().Where(s => s.Length > 24).Distinct().ToList();
        Assert.NotEmpty(stacks);
        Assert.All(stacks, (stack, i) => Assert.Single(output.Split('\n'), l => l == $"  S{i + 1}: {stack}"));
        var table = output.Split('\n').TakeWhile(l => l != "software:").ToList();
        Assert.All(table, l => Assert.True(l.Length < 300, $"{l.Length} characters: {l}"));
        foreach (var name in ArchitectureCatalog.Names)
        {
            Assert.Contains("roofline:" + name, output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Models_Json_HasEveryProfileAndArchitecture()
    {
        var (code, output, _) = Run("models", "--json");

        Assert.Equal(0, code);
        using var doc = JsonDocument.Parse(output);
        var profiles = doc.RootElement.GetProperty("profiles");
        Assert.True(profiles.GetArrayLength() >= PaperTable3.All.Count);
        var davinci = profiles.EnumerateArray().First(p => p.GetProperty("name").GetString() == "OpenAI/davinci" && p.GetProperty("kind").GetString() == "table3-idealized");
        Assert.Equal(8, davinci.GetProperty("accelerator_count").GetInt32()); // Table 1: 8 A100s for davinci
        Assert.False(davinci.GetProperty("emulated").GetBoolean());
        Assert.Equal(ArchitectureCatalog.All.Count, doc.RootElement.GetProperty("roofline_architectures").GetArrayLength());
    }

    [Fact]
    public void Estimate_Roofline_EqualsTheLibrarysRooflineOnThePlannedGpuCount()
    {
        const string name = "meta-llama/Meta-Llama-3-8B";
        var (code, output, err) = Run("estimate", "--json", "--model", $"roofline:{name}@H100-SXM");

        Assert.True(code == 0, err);
        using var doc = JsonDocument.Parse(output);
        var row = doc.RootElement.GetProperty("models")[0];
        var architecture = ArchitectureCatalog.Get(name);
        var n = AcceleratorPlanner.MinimumAccelerators(architecture, Accelerators.H100_SXM).AcceleratorCount;
        var model = RooflineEstimator.Estimate(architecture, Accelerators.H100_SXM, n);
        var w = Workload.Sample;
        Assert.Equal(model.PredictBatch(w.PromptTokens, w.OutputTokens).Sum(), row.GetProperty("total_seconds").GetDouble(), 1e-9);
        Assert.Equal("H100-SXM", row.GetProperty("accelerator").GetString()); // cost defaults to the roofline's own accelerator
        Assert.Equal($"roofline:{name}@H100-SXM", row.GetProperty("model").GetString());
    }

    [Fact]
    public void Estimate_RooflineDefaultsToA100()
    {
        var (code, output, _) = Run("estimate", "--json", "--model", "roofline:EleutherAI/GPT-J");
        Assert.Equal(0, code);
        Assert.Contains("@A100-80GB", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("roofline:llama3-8b", "meta-llama/Meta-Llama-3-8B")]
    [InlineData("OpenAI/davinc", "OpenAI/davinci")]
    [InlineData("roofline:EleutherAI/GPT-J@H1000", "H100-SXM")]
    public void Estimate_UnknownNames_SuggestTheClosest(string model, string suggestion)
        => AssertOneLineError(Run("estimate", "--model", model), "Closest:", suggestion);

    [Fact]
    public void Estimate_MissingModelFile_NamesThePath()
        => AssertOneLineError(Run("estimate", "--model", "/nonexistent/model.json"), "/nonexistent/model.json", "does not exist");

    [Fact]
    public void Estimate_MissingWorkloadFile_NamesThePath()
        => AssertOneLineError(Run("estimate", "--workload", "/nonexistent/w.csv"), "/nonexistent/w.csv");

    [Fact]
    public void Estimate_MalformedWorkloadRow_ReportsLine()
    {
        using var dir = new TempDir();
        var path = dir.File("w.csv", "prompt_tokens,output_tokens\n512,1\n12x,4\n");
        AssertOneLineError(Run("estimate", "--workload", path), "3");
    }
}
