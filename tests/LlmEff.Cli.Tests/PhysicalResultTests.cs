using System.Text.Json;
using LlmEff.Core;
using LlmEff.Core.Batching;
using LlmEff.Core.Serialization;
using static LlmEff.Cli.Tests.CliRunner;

namespace LlmEff.Cli.Tests;

/// <summary>Results that make no physical sense (a measured/ideal ratio across GPUs, millijoules as joules, a query beyond the context) are refused or marked.</summary>
public sealed class PhysicalResultTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    // t(p, o) = 0.02 + 1e-4·p + 0.01·(o − 1) s; E = (5 + 0.01·p + 2·(o − 1))·scale J: a 200·scale W decode.
    private string SamplesCsv(double scale)
    {
        var csv = _dir.File($"samples-{scale}.csv");
        var samples = from p in new[] { 1, 256, 512, 1024 }
                      from o in new[] { 1, 8, 32, 64 }
                      select new ProfilingSample(p, o, 0.02 + (1e-4 * p) + (0.01 * (o - 1))) { Trial = 0, EnergyJoules = (5 + (0.01 * p) + (2.0 * (o - 1))) * scale };
        ProfilingSampleCsv.WriteFile(csv, samples);
        return csv;
    }

    [Fact]
    public void Estimate_EnergyProfilePricedOnAnotherAccelerator_ShowsNoMeasuredOverIdealRatio()
    {
        // Measured on H100 over V100's idealized bound came out 1.418: a ratio of two GPUs' energies, not a fraction of a bound.
        var table = Run("estimate", "-m", "gptj-h100-bf16-energy", "--accelerator", "V100-32GB");
        Assert.True(table.Code == 0, table.Err);
        var row = table.Out.Split('\n').Single(l => l.StartsWith("gptj-h100-bf16-energy", StringComparison.Ordinal));
        Assert.DoesNotContain("1.418", row, StringComparison.Ordinal);
        Assert.Contains("measured on H100-SXM, priced here on V100-32GB", table.Out, StringComparison.Ordinal);

        var json = Run("estimate", "--json", "-m", "gptj-h100-bf16-energy", "--accelerator", "V100-32GB");
        using var doc = JsonDocument.Parse(json.Out);
        var model = doc.RootElement.GetProperty("models")[0];
        Assert.False(model.TryGetProperty("measured_over_idealized_energy", out _));
        Assert.Equal("H100-SXM", model.GetProperty("measured_on_accelerator").GetString());

        // On its own H100 the ratio stays, below 1.
        var own = Run("estimate", "--json", "-m", "gptj-h100-bf16-energy");
        using var ownDoc = JsonDocument.Parse(own.Out);
        Assert.InRange(ownDoc.RootElement.GetProperty("models")[0].GetProperty("measured_over_idealized_energy").GetDouble(), 0, 1);
    }

    [Fact]
    public void Estimate_MeasuredEnergyAboveTheIdealizedBound_Warns()
    {
        // A 2,000 W decode on a 700 W H100: possible only with wrong units or GPU count, so it is said on stderr.
        var modelPath = _dir.File("hot.json");
        Assert.Equal(0, Run("fit", SamplesCsv(10), "-o", modelPath, "--bootstrap", "0").Code);

        var (code, _, err) = Run("estimate", "-m", modelPath, "--accelerator", "H100-SXM");

        Assert.Equal(0, code);
        Assert.Contains("llmeff: warning: hot: measured energy is", err, StringComparison.Ordinal);
        Assert.Contains("cannot exceed", err, StringComparison.Ordinal);
    }

    [Fact]
    public void Fit_EnergiesInMillijoules_GiveNoEnergyModelAndSayJoules()
    {
        var fit = Run("fit", SamplesCsv(1000), "-o", _dir.File("mj.json"), "--bootstrap", "0");

        Assert.True(fit.Code == 0, fit.Err);
        Assert.DoesNotContain("mean decode power 200000 W", fit.Out, StringComparison.Ordinal);
        Assert.Contains("warning: no energy model", fit.Out, StringComparison.Ordinal);
        Assert.Contains("NVML reports millijoules", fit.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("(Parameter", fit.Out, StringComparison.Ordinal);
        Assert.False(File.Exists(_dir.File("mj.energy.json")));
    }

    private static double Truth(int p, int o, int b) => 0.005 + (2e-6 * p * b) + ((o - 1) * (0.010 + (1e-4 * b)));

    private string BatchedModel(string? modelName, Func<int, int, int, double>? truth = null)
    {
        truth ??= Truth;
        var samples = from b in new[] { 1, 4, 16 } from p in new[] { 128, 512 } from o in new[] { 8, 64 } select new ProfilingSample(p, o, truth(p, o, b)) { BatchSize = b };
        var model = BatchedRuntimeModel.Fit(samples, RuntimeFitOptions.Default).WithMetadata(new RuntimeModelMetadata { ModelName = modelName, AcceleratorCount = 1 });
        return _dir.File($"batched-{Guid.NewGuid():N}.json", model.ToJson());
    }

    [Fact]
    public void PlotBatching_QueryBeyondTheModelsContext_IsRefused()
    {
        var result = Run("plot", "batching", BatchedModel("EleutherAI/GPT-J"), "-p", "100000000", "--accelerator", "A100-80GB", "-o", _dir.File("b.png"));
        AssertOneLineError(result, "p = 100000000", "beyond EleutherAI/GPT-J's 2048");
        Assert.False(File.Exists(_dir.File("b.png")));
    }

    [Fact]
    public void PlotBatching_BadLatencyBounds_NameTheirOwnOptionAndUnit()
    {
        var model = BatchedModel("synthetic");
        var tpot = Run("plot", "batching", model, "--max-tpot-ms", "-1", "--accelerator", "H100-SXM", "-o", _dir.File("b.png"));
        AssertOneLineError(tpot, "--max-tpot-ms -1", "milliseconds");
        Assert.DoesNotContain("--max-latency", tpot.Err, StringComparison.Ordinal);
        Assert.DoesNotContain("Parameter", tpot.Err, StringComparison.Ordinal);

        var e2e = Run("plot", "batching", model, "--max-latency", "0", "--accelerator", "H100-SXM", "-o", _dir.File("b.png"));
        AssertOneLineError(e2e, "--max-latency 0", "seconds");
        Assert.DoesNotContain("--max-tpot-ms", e2e.Err, StringComparison.Ordinal);
    }

    [Fact]
    public void PlotBatching_MissingModel_NamesTheArgumentNotAnOption()
    {
        var result = Run("plot", "batching", _dir.File("none.json"), "-o", _dir.File("b.png"));
        AssertOneLineError(result, "<model> '", "no such file");
        Assert.DoesNotContain("--model", result.Err, StringComparison.Ordinal);
    }

    [Fact]
    public void EstimateBatch_ThatCannotBeComputed_PrintsNothingOnStdout()
    {
        // Runtime falling with b: following the 4..16 segment to b = 64 gives a negative prompt encoding.
        var model = BatchedModel("falling", (p, o, b) => 0.5 - (0.02 * b) + (1e-5 * p) + ((o - 1) * 0.01));
        var result = Run("estimate", "--batch", "64", "-m", model, "-w", _dir.File("w.csv", "prompt_tokens,output_tokens\n256,32\n"));

        Assert.Equal(1, result.Code);
        Assert.Contains("non-physical", result.Err, StringComparison.Ordinal);
        Assert.Empty(result.Out);
    }
}
