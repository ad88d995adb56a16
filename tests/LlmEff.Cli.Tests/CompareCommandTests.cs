using System.Text.Json;
using LlmEff.Core;
using LlmEff.Core.Hardware;
using static LlmEff.Cli.Tests.CliRunner;

namespace LlmEff.Cli.Tests;

public class CompareCommandTests
{
    // Hand-made models with flat PE so every runtime is easy to compute:
    // A: PE = 0.1 s, g = 0.02 s; B: PE = 0.05 s, g = 0.005 s.
    // Query (512, 11): A = 0.1 + 10·0.02 = 0.30 s, B = 0.05 + 10·0.005 = 0.10 s, speedup 3.
    // Query (1024, 1): A = 0.10 s, B = 0.05 s, speedup 2.
    private static (TempDir Dir, string A, string B, string Workload) Setup()
    {
        var dir = new TempDir();
        var a = dir.File("a.json", RuntimeModel.Create([(1, 0.1), (2048, 0.1)], 0.02).ToJson());
        var b = dir.File("b.json", RuntimeModel.Create([(1, 0.05), (2048, 0.05)], 0.005).ToJson());
        var w = dir.File("w.csv", "prompt_tokens,output_tokens\n512,11\n1024,1\n");
        return (dir, a, b, w);
    }

    [Fact]
    public void Compare_Json_PerQuerySpeedupAndCostRatio()
    {
        var (dir, a, b, w) = Setup();
        using var _ = dir;
        var (code, output, err) = Run("compare", a, b, "--workload", w, "--accelerator-a", "A100-80GB", "--accelerator-b", "H100-SXM", "--json");

        Assert.True(code == 0, err);
        using var doc = JsonDocument.Parse(output);
        var root = doc.RootElement;
        var speedup = root.GetProperty("speedup");
        Assert.Equal(2.5, speedup.GetProperty("mean").GetDouble(), 1e-9);
        Assert.Equal(2.5, speedup.GetProperty("median").GetDouble(), 1e-9);
        Assert.Equal(2.0, speedup.GetProperty("min").GetDouble(), 1e-9);
        Assert.Equal(3.0, speedup.GetProperty("max").GetDouble(), 1e-9);
        Assert.Equal(0.4 / 0.15, speedup.GetProperty("total").GetDouble(), 1e-9);

        // One accelerator each (no count in the metadata): cost ratio = (B time · H100 price) / (A time · A100 price).
        var prices = Accelerators.H100_SXM.PricePerSecondUsd / Accelerators.A100_80GB.PricePerSecondUsd;
        var perQuery = root.GetProperty("per_query");
        Assert.Equal(2, perQuery.GetArrayLength());
        Assert.Equal(prices / 3, perQuery[0].GetProperty("cost_ratio").GetDouble(), 1e-9);
        Assert.Equal(prices / 2, perQuery[1].GetProperty("cost_ratio").GetDouble(), 1e-9);
        Assert.Equal(prices * 0.15 / 0.4, root.GetProperty("cost_ratio").GetProperty("total").GetDouble(), 1e-9);
    }

    [Fact]
    public void Compare_Table_SummaryAndPerQueryCsv()
    {
        var (dir, a, b, w) = Setup();
        using var _ = dir;
        var csv = dir.File("per-query.csv");
        var (code, output, err) = Run("compare", a, b, "-w", w, "--per-query", csv);

        Assert.True(code == 0, err);
        Assert.Contains("speedup (A time / B time)", output, StringComparison.Ordinal);
        Assert.Contains("speedup 2.667x", output, StringComparison.Ordinal);
        Assert.Contains("B is faster", output, StringComparison.Ordinal);
        var lines = File.ReadAllLines(csv);
        Assert.Equal(3, lines.Length);
        Assert.StartsWith("512,11,0.3", lines[1], StringComparison.Ordinal);
    }

    [Fact]
    public void Compare_A100VsV100Roofline_V100NeedsMoreGpusAndCostsMore()
    {
        // Figure 8's point: the 32-GB V100 needs more GPUs to hold davinci, which makes it more expensive per query.
        var (code, output, err) = Run("compare", "roofline:OpenAI/davinci@A100-80GB", "roofline:OpenAI/davinci@V100-32GB", "--json");

        Assert.True(code == 0, err);
        using var doc = JsonDocument.Parse(output);
        Assert.True(doc.RootElement.GetProperty("b").GetProperty("accelerators").GetInt32() > doc.RootElement.GetProperty("a").GetProperty("accelerators").GetInt32());
        Assert.True(doc.RootElement.GetProperty("cost_ratio").GetProperty("total").GetDouble() > 1);
    }

    [Fact]
    public void Compare_SaysWhenAModelRecordsNoGpuCount_AndThatEqualTimesAreAsFast()
    {
        // Table 3's denoised rows record no GPU count; the same model twice is as fast, not "faster".
        var (code, output, err) = Run("compare", "OpenAI/davinci", "OpenAI/davinci", "--metric", "denoised");

        Assert.True(code == 0, err);
        Assert.Contains("A and B are equally fast", output, StringComparison.Ordinal);

        // Neither side has hardware, so neither was priced: "priced as 1" would contradict the unknown cost below it.
        Assert.Contains("(GPU count not recorded) vs A", output, StringComparison.Ordinal);
        Assert.DoesNotContain("priced as 1", output, StringComparison.Ordinal);
        Assert.Contains("total idealized cost: unknown", output, StringComparison.Ordinal);

        // Priced on an accelerator, A says it was priced as one GPU; unpriced B still does not.
        var priced = Run("compare", "OpenAI/davinci", "OpenAI/davinci", "--metric", "denoised", "--accelerator-a", "A100-80GB");
        Assert.True(priced.Code == 0, priced.Err);
        Assert.Contains("(GPU count not recorded) vs A = OpenAI/davinci (GPU count not recorded: priced as 1)", priced.Out, StringComparison.Ordinal);

        // The JSON says the same: a count of 1 that was assumed, not recorded.
        var json = Run("compare", "OpenAI/davinci", "OpenAI/davinci", "--metric", "denoised", "--json");
        using var doc = JsonDocument.Parse(json.Out);
        Assert.True(doc.RootElement.GetProperty("a").GetProperty("accelerators_assumed").GetBoolean());
        var recorded = Run("compare", "roofline:OpenAI/davinci@A100-80GB", "OpenAI/davinci", "--json");
        using var both = JsonDocument.Parse(recorded.Out);
        Assert.False(both.RootElement.GetProperty("a").TryGetProperty("accelerators_assumed", out _));
    }

    [Fact]
    public void Compare_UnknownModel_SuggestsNames()
        => AssertOneLineError(Run("compare", "OpenAI/davinci", "Anthropic/v5"), "Anthropic/v4-s3");

    [Fact]
    public void Compare_UnknownAccelerator_SuggestsNames()
        => AssertOneLineError(Run("compare", "OpenAI/davinci", "AI21/J1-Jumbo v1", "--accelerator-b", "V100"), "V100-32GB");

    [Fact]
    public void Compare_MissingArgument_IsAnError()
    {
        var (code, _, err) = Run("compare", "OpenAI/davinci");
        Assert.NotEqual(0, code);
        Assert.NotEmpty(err);
    }
}
