using System.Text.Json;
using LlmEff.Core.Hardware;
using LlmEff.Core.Serialization;
using LlmEff.Core.Workloads;
using static LlmEff.Cli.Tests.CliRunner;

namespace LlmEff.Cli.Tests;

/// <summary>The H100 profiles this project measured (src/LlmEff.Core/Catalog/Profiles, from the GPU harness run of 2026-11-24).</summary>
public class MeasuredProfileTests
{
    [Fact]
    public void Models_ListsTheMeasuredH100ProfilesWithProvenance()
    {
        var (code, output, err) = Run("models");

        Assert.True(code == 0, err);
        var gptj = output.Split('\n').Single(l => l.StartsWith("gptj-6b-h100-bf16 ", StringComparison.Ordinal));
        Assert.Contains("measured", gptj, StringComparison.Ordinal);
        Assert.Contains("NVIDIA H100 80GB HBM3", gptj, StringComparison.Ordinal);
        // The software stack is named by its key in the row and spelled out in the legend below the table.
        var key = gptj.Split("  ", StringSplitOptions.RemoveEmptyEntries).Select(c => c.Trim()).Single(c => System.Text.RegularExpressions.Regex.IsMatch(c, "^S[0-9]+$"));
        Assert.Contains("TorchSharp 0.107.0.0", output.Split('\n').Single(l => l.StartsWith($"  {key}: ", StringComparison.Ordinal)), StringComparison.Ordinal);
        Assert.Contains("2026-12", gptj, StringComparison.Ordinal);
        Assert.Contains("0.9993", gptj, StringComparison.Ordinal); // r_squared 0.99931 in gptj-6b-h100-bf16.json
        Assert.Contains("llama3-8b-h100-bf16 ", output, StringComparison.Ordinal);
        Assert.DoesNotContain("no measured profiles are embedded", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Models_Json_GivesEachMeasuredProfilesModelHardwareAndFit()
    {
        var (code, output, _) = Run("models", "--json");

        Assert.Equal(0, code);
        using var doc = JsonDocument.Parse(output);
        var profiles = doc.RootElement.GetProperty("profiles").EnumerateArray().Where(p => p.GetProperty("kind").GetString() == "measured").ToDictionary(p => p.GetProperty("name").GetString()!);
        var llama = profiles["llama3-8b-h100-bf16"];
        Assert.Equal("measured", llama.GetProperty("kind").GetString());
        Assert.Equal("meta-llama/Meta-Llama-3-8B", llama.GetProperty("model_name").GetString());
        Assert.Equal("idealized", llama.GetProperty("metric").GetString());
        Assert.Equal(1, llama.GetProperty("accelerator_count").GetInt32());
        Assert.StartsWith("NVIDIA H100 80GB HBM3", llama.GetProperty("hardware").GetString(), StringComparison.Ordinal);
        Assert.Contains("bf16", llama.GetProperty("software").GetString(), StringComparison.Ordinal);
        Assert.False(llama.GetProperty("emulated").GetBoolean());
        Assert.True(llama.GetProperty("measured_energy").GetBoolean()); // llama3-8b-h100-bf16.energy.json beside it
        Assert.False(profiles["table1-ai21-j1-grande-v1-h100-tp1"].GetProperty("measured_energy").GetBoolean());
        // From llama3-8b-h100-bf16.json: g = 6.157 ms/token, R² = 0.99980.
        Assert.Equal(0.006157411080640783, llama.GetProperty("per_output_token_seconds").GetDouble(), 1e-15);
        Assert.Equal(0.9998036586380527, llama.GetProperty("r_squared").GetDouble(), 1e-12);
        Assert.Equal("EleutherAI/gpt-j-6b", profiles["gptj-6b-h100-bf16"].GetProperty("model_name").GetString());
    }

    [Fact]
    public void Estimate_WithAMeasuredProfile_UsesItsParametersAndTheH100()
    {
        var (code, output, err) = Run("estimate", "--json", "--model", "gptj-6b-h100-bf16");

        Assert.True(code == 0, err);
        using var doc = JsonDocument.Parse(output);
        var row = doc.RootElement.GetProperty("models")[0];
        Assert.Equal("gptj-6b-h100-bf16", row.GetProperty("model").GetString());
        // PE(512) and g are the knot and slope stored in gptj-6b-h100-bf16.json.
        Assert.Equal(0.011330459489546571, row.GetProperty("prompt_encoding_512_seconds").GetDouble(), 1e-15);
        Assert.Equal(0.004996017220562947, row.GetProperty("per_output_token_seconds").GetDouble(), 1e-15);
        Assert.Equal(1, row.GetProperty("accelerators").GetInt32());
        // NVML named an "H100 80GB HBM3" (SXM5), so idealized energy is t × 1 × 700 W (Accelerators.H100_SXM).
        Assert.Equal("H100-SXM", row.GetProperty("accelerator").GetString());
        Assert.Equal(row.GetProperty("total_seconds").GetDouble() * Accelerators.H100_SXM.BoardPowerWatts, row.GetProperty("total_energy_joules").GetDouble(), 1e-6);
        // The profile ships its measured energy model (gptj-6b-h100-bf16.energy.json): shown beside the idealized one.
        Assert.True(row.GetProperty("total_measured_energy_joules").GetDouble() > 0);
        // The total is the shipped file's model summed over the built-in sample workload.
        var file = SourceFile("src", "LlmEff.Core", "Catalog", "Profiles", "gptj-6b-h100-bf16.json");
        var model = RuntimeModelJson.Load(file);
        var w = Workload.Sample;
        Assert.Equal(model.PredictBatch(w.PromptTokens, w.OutputTokens).Sum(), row.GetProperty("total_seconds").GetDouble(), 1e-9);
    }

    private static string SourceFile(params string[] parts)
    {
        string? dir = AppContext.BaseDirectory;
        while (dir is not null && !File.Exists(Path.Combine([dir, .. parts])))
        {
            dir = Path.GetDirectoryName(dir);
        }

        if (dir is null)
        {
            Assert.Skip("the source tree is not beside the test binaries");
        }

        return Path.Combine([dir!, .. parts]);
    }

    [Fact]
    public void Estimate_MeasuredProfileNameIsCaseInsensitive_AndTyposAreSuggested()
    {
        Assert.Equal(0, Run("estimate", "--model", "GPTJ-6B-H100-BF16").Code);
        AssertOneLineError(Run("estimate", "--model", "llama3-8b-h100"), "Closest:", "llama3-8b-h100-bf16");
    }
}
