using System.Text.Json;
using LlmEff.Core;
using LlmEff.Core.Hardware;
using LlmEff.Core.Serialization;
using LlmEff.Core.Workloads;
using static LlmEff.Cli.Tests.CliRunner;

namespace LlmEff.Cli.Tests;

/// <summary>Measured energy in the tool: profiles that carry an energy model show it in estimates beside the idealized t × n × W.</summary>
public class MeasuredEnergyTests
{
    // Synthetic GPU: t(p, o) = 0.02 + 1e-4·p + 0.01·(o − 1) s and E(p, o) = 5 + 0.01·p + 2·(o − 1) J, i.e. e = 2 J per output
    // token at g = 10 ms, a 200 W decode; both exactly linear, so the fits (and their linear extrapolation) are exact.
    private static double Seconds(int p, int o) => 0.02 + (1e-4 * p) + (0.01 * (o - 1));

    private static double Joules(int p, int o) => 5 + (0.01 * p) + (2.0 * (o - 1));

    private static IEnumerable<ProfilingSample> Samples(int[] prompts, int[] outputs, string? source = null)
        => from p in prompts from o in outputs select new ProfilingSample(p, o, Seconds(p, o)) { Trial = 0, EnergyJoules = Joules(p, o), Source = source };

    [Fact]
    public void Fit_SamplesWithEnergy_PrintsAndWritesTheEnergyModel_AndEstimateShowsMeasuredBesideIdealized()
    {
        using var dir = new TempDir();
        var csv = dir.File("samples.csv");
        ProfilingSampleCsv.WriteFile(csv, Samples([1, 256, 512, 1024], [1, 8, 32, 64]));
        var modelPath = dir.File("model.json");

        var fit = Run("fit", csv, "-o", modelPath, "--bootstrap", "0");

        Assert.True(fit.Code == 0, fit.Err);
        Assert.Contains("e = 2.000 J/output token", fit.Out, StringComparison.Ordinal);
        Assert.Contains("E_pe(1024) = 15.240 J", fit.Out, StringComparison.Ordinal); // 5 + 0.01·1024
        Assert.Contains("mean decode power 200 W", fit.Out, StringComparison.Ordinal); // 2 J / 10 ms
        var energyPath = dir.File("model.energy.json");
        Assert.True(File.Exists(energyPath));

        var (code, output, err) = Run("estimate", "--json", "--model", modelPath, "--accelerator", "H100-SXM");

        Assert.True(code == 0, err);
        using var doc = JsonDocument.Parse(output);
        var row = doc.RootElement.GetProperty("models")[0];
        var w = Workload.Sample;
        double measured = 0, seconds = 0;
        for (var i = 0; i < w.Count; i++)
        {
            measured += Joules(w[i].PromptTokens, w[i].OutputTokens);
            seconds += Seconds(w[i].PromptTokens, w[i].OutputTokens);
        }

        Assert.Equal(measured, row.GetProperty("total_measured_energy_joules").GetDouble(), measured * 1e-9);
        Assert.Equal(2.0, row.GetProperty("measured_energy_per_output_token_joules").GetDouble(), 1e-9);
        Assert.Equal(seconds * Accelerators.H100_SXM.BoardPowerWatts, row.GetProperty("total_energy_joules").GetDouble(), seconds * 1e-6);
        Assert.Equal(measured / (seconds * Accelerators.H100_SXM.BoardPowerWatts), row.GetProperty("measured_over_idealized_energy").GetDouble(), 1e-9);

        var table = Run("estimate", "--model", modelPath, "--accelerator", "H100-SXM");
        Assert.Equal(0, table.Code);
        Assert.Contains("measured kWh", table.Out, StringComparison.Ordinal);
        Assert.Contains((measured / 3.6e6).ToString("F4", System.Globalization.CultureInfo.InvariantCulture), table.Out, StringComparison.Ordinal);
    }

    [Fact]
    public void Estimate_WithoutEnergyModels_ShowsOnlyTheIdealizedEnergy()
    {
        var (code, output, _) = Run("estimate");
        Assert.Equal(0, code);
        Assert.Contains("energy kWh", output, StringComparison.Ordinal);
        Assert.DoesNotContain("measured kWh", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Fit_SamplesWithoutEnergy_WritesNoEnergyModel()
    {
        using var dir = new TempDir();
        var csv = dir.File("samples.csv");
        ProfilingSampleCsv.WriteFile(csv, Samples([1, 256, 512], [1, 8, 32]).Select(s => s with { EnergyJoules = null }));

        var fit = Run("fit", csv, "-o", dir.File("model.json"), "--bootstrap", "0");

        Assert.Equal(0, fit.Code);
        Assert.DoesNotContain("Measured energy", fit.Out, StringComparison.Ordinal);
        Assert.False(File.Exists(dir.File("model.energy.json")));
    }

    [Fact]
    public void Fit_EnergiesThatCannotBeFitted_WarnAndWriteOnlyTheRuntimeModel()
    {
        using var dir = new TempDir();
        var csv = dir.File("samples.csv");
        ProfilingSampleCsv.WriteFile(csv, Samples([1, 256, 512], [1, 8, 32]).Select(s => s with { EnergyJoules = 100 - s.OutputTokens }));

        var fit = Run("fit", csv, "-o", dir.File("model.json"), "--bootstrap", "0");

        Assert.True(fit.Code == 0, fit.Err);
        Assert.Contains("warning: no energy model", fit.Out, StringComparison.Ordinal);
        Assert.True(File.Exists(dir.File("model.json")));
        Assert.False(File.Exists(dir.File("model.energy.json")));
    }

    [Fact]
    public void Estimate_MalformedEnergyCompanion_FailsWithOneLine()
    {
        using var dir = new TempDir();
        var modelPath = dir.File("model.json");
        RuntimeModelJson.Save(RuntimeModel.Fit(Samples([1, 256, 512], [1, 8, 32])), modelPath);
        dir.File("model.energy.json", "{\"schema\": \"something-else\"}");

        AssertOneLineError(Run("estimate", "--model", modelPath), "model.energy.json", "is not an energy model");
    }

    [Fact]
    public void Estimate_VersionOneEnergyCompanion_SaysWhatItIsAndToRefit()
    {
        using var dir = new TempDir();
        var modelPath = dir.File("model.json");
        RuntimeModelJson.Save(RuntimeModel.Fit(Samples([1, 256, 512], [1, 8, 32])), modelPath);
        dir.File("model.energy.json", "{\"schema\": \"llmeff.energy-model\", \"schema_version\": 1, \"energy\": {}}");

        AssertOneLineError(Run("estimate", "--model", modelPath), "model.energy.json", "version-1 energy form", "re-fit");
    }

    [Fact]
    public void Estimate_ShippedEnergyProfile_KeepsItsMeasuredNumbers()
    {
        // The H100 GPT-J energy profile measured with NVML (e = 2.560 J per output token, idle 134.9 W), in the current form.
        var (code, output, err) = Run("estimate", "--json", "--model", "gptj-h100-bf16-energy", "--accelerator", "H100-SXM");

        Assert.True(code == 0, err);
        using var doc = JsonDocument.Parse(output);
        Assert.Equal(2.5602288179911117, doc.RootElement.GetProperty("models")[0].GetProperty("measured_energy_per_output_token_joules").GetDouble());
    }

    [Fact]
    public void ProfileTorch_SamplesWithEnergy_WriteTheEnergyCompanionThatEstimateReads()
    {
        LlmEff.Tests.Shared.LibTorchAvailability.Require();
        // The samples file holds every point of the plan with energy (as an NVML run writes them), so the run resumes all
        // of them on the CPU and goes straight to the fits: the energy path of 'profile torch' without a GPU. A first run
        // records this CPU setup beside the file (samples without one are set aside, not resumed); its samples are then
        // replaced by ones with energy.
        using var dir = new TempDir();
        var arch = dir.File("tiny.json", """{"name": "tiny-gpt", "hidden_size": 32, "layers": 2, "heads": 4, "vocabulary_size": 97, "max_context_tokens": 64}""");
        var outDir = Path.Combine(dir.Path, "out");
        string[] profile = ["profile", "torch", "--arch-file", arch, "--device", "cpu", "--precision", "fp32", "--prompts", "1,8", "--outputs", "1,2,4", "--trials", "1", "--warmup", "0", "--keep-non-physical", "--out", outDir];
        var first = Run(profile);
        Assert.True(first.Code == 0, first.Err);
        ProfilingSampleCsv.WriteFile(Path.Combine(outDir, "tiny-gpt-samples.csv"), Samples([1, 8], [1, 2, 4], "torchsharp:tiny-gpt:fp32"));

        var run = Run(profile);

        Assert.True(run.Code == 0, run.Err);
        Assert.Contains("(6 resumed)", run.Out, StringComparison.Ordinal);
        Assert.Contains("energy: e = 2.000 J/output token", run.Out, StringComparison.Ordinal);
        Assert.Contains("energy per prompt token (p = 1 to 8): 0.0100 J", run.Out, StringComparison.Ordinal); // the 0.01·p term
        var modelPath = Path.Combine(outDir, "tiny-gpt-runtime-model.json");
        Assert.True(File.Exists(Path.Combine(outDir, "tiny-gpt-runtime-model.energy.json")));
        var (code, output, err) = Run("estimate", "--json", "--model", modelPath, "--accelerator", "A100-80GB");
        Assert.True(code == 0, err);
        using var doc = JsonDocument.Parse(output);
        Assert.Equal(2.0, doc.RootElement.GetProperty("models")[0].GetProperty("measured_energy_per_output_token_joules").GetDouble(), 1e-9);
    }
}
