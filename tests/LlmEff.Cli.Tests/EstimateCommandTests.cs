using System.Text.Json;
using LlmEff.Core;
using LlmEff.Core.Reference;
using LlmEff.Core.Workloads;

namespace LlmEff.Cli.Tests;

public class EstimateCommandTests
{
    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = LlmEffCommand.Run(args, output, error);
        return (code, output.ToString(), error.ToString());
    }

    [Fact]
    public void Estimate_Defaults_PrintsEveryTable3ModelForTheSampleWorkload()
    {
        var (code, output, err) = Run("estimate");

        Assert.Equal(0, code);
        Assert.Empty(err);
        foreach (var row in PaperTable3.Idealized)
        {
            Assert.Contains(row.ModelName, output, StringComparison.Ordinal);
        }

        Assert.Contains("1,000 queries", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Estimate_Json_TotalsEqualTheLibrarysPrediction()
    {
        var (code, output, _) = Run("estimate", "--json", "--model", "Anthropic/v4-s3");

        Assert.Equal(0, code);
        using var doc = JsonDocument.Parse(output);
        var row = doc.RootElement.GetProperty("models")[0];
        var model = PaperTable3.Get("Anthropic/v4-s3", RuntimeMetric.Idealized);
        var w = Workload.Sample;
        var expected = model.PredictBatch(w.PromptTokens, w.OutputTokens).Sum();
        Assert.Equal(expected, row.GetProperty("total_seconds").GetDouble(), 1e-9);
        Assert.Equal(0.054, row.GetProperty("per_output_token_seconds").GetDouble(), 1e-12);
    }

    [Fact]
    public void Estimate_ModelFile_IsRead()
    {
        var path = Path.Combine(Path.GetTempPath(), $"llmeff-cli-{Guid.NewGuid():N}.json");
        try
        {
            File.WriteAllText(path, RuntimeModel.Create([(1, 0.01), (2048, 0.5)], 0.02).ToJson());
            var (code, output, _) = Run("estimate", "--model", path);
            Assert.Equal(0, code);
            Assert.Contains(Path.GetFileNameWithoutExtension(path), output, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Estimate_UnknownModel_OneLineErrorAndNonZeroExit()
    {
        var (code, _, err) = Run("estimate", "--model", "nope/nothing");

        Assert.Equal(1, code);
        Assert.StartsWith("llmeff: error:", err, StringComparison.Ordinal);
        Assert.Contains("OpenAI/davinci", err, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", err, StringComparison.Ordinal);
    }

    [Fact]
    public void Estimate_BadMetric_IsAParseError()
    {
        var (code, _, err) = Run("estimate", "--metric", "fastest");
        Assert.NotEqual(0, code);
        Assert.NotEmpty(err);
    }

    [Fact]
    public void Estimate_ModelWithoutAGpuCount_IsPricedOnOneGpu_Marked_AndLabelledWithItsOwnMetric()
    {
        // A denoised model file that records no accelerator count: priced on one A100 when asked, and said so.
        using var dir = new TempDir();
        var path = dir.File("api.json");
        Core.Serialization.RuntimeModelJson.Save(RuntimeModel.Create([(1, 0.1), (2048, 0.5)], 0.02, metadata: new RuntimeModelMetadata { ModelName = "api", Metric = RuntimeMetric.Denoised }), path);

        var (code, output, err) = Run("estimate", "-m", path, "--accelerator", "A100-80GB");
        Assert.True(code == 0, err);
        Assert.StartsWith("Denoised runtime of workload", output, StringComparison.Ordinal);
        Assert.Contains("    1*  ", output, StringComparison.Ordinal);
        Assert.Contains("1*: the model does not record how many GPUs serve it", output, StringComparison.Ordinal);

        var (jsonCode, json, _) = Run("estimate", "--json", "-m", path, "--accelerator", "A100-80GB");
        Assert.Equal(0, jsonCode);
        using var doc = JsonDocument.Parse(json);
        Assert.Equal("denoised", doc.RootElement.GetProperty("metric").GetString());
        var row = doc.RootElement.GetProperty("models")[0];
        Assert.True(row.GetProperty("accelerators_assumed").GetBoolean());
        Assert.Equal(1, row.GetProperty("accelerators").GetInt32());
    }
}

public class EstimateCostTests
{
    [Fact]
    public void Estimate_IdealizedCostAndEnergy_AreRuntimeTimesGpusTimesPriceOrPower()
    {
        var output = new StringWriter();
        Assert.Equal(0, LlmEffCommand.Run(["estimate", "--json", "--model", "OpenAI/davinci"], output, new StringWriter()));
        using var doc = System.Text.Json.JsonDocument.Parse(output.ToString());
        var row = doc.RootElement.GetProperty("models")[0];
        var seconds = row.GetProperty("total_seconds").GetDouble();
        var a100 = LlmEff.Core.Hardware.Accelerators.A100_80GB;

        // Paper §4.2: t × n × c and t × n × W, with Table 1's 8 A100s for davinci.
        Assert.Equal(seconds * 8 * a100.PricePerSecondUsd, row.GetProperty("total_cost_usd").GetDouble(), 1e-9);
        Assert.Equal(seconds * 8 * a100.BoardPowerWatts, row.GetProperty("total_energy_joules").GetDouble(), 1e-6);
    }

    [Fact]
    public void Estimate_WorkloadFile_IsUsed()
    {
        var file = Path.Combine(Path.GetTempPath(), $"llmeff-w-{Guid.NewGuid():N}.csv");
        try
        {
            File.WriteAllText(file, "prompt_tokens,output_tokens\n512,1\n1024,64\n");
            var output = new StringWriter();
            Assert.Equal(0, LlmEffCommand.Run(["estimate", "--json", "--workload", file, "--model", "Anthropic/v4-s3"], output, new StringWriter()));
            using var doc = System.Text.Json.JsonDocument.Parse(output.ToString());
            Assert.Equal(2, doc.RootElement.GetProperty("queries").GetInt32());
            Assert.Equal(0.108 + 0.189 + (63 * 0.054), doc.RootElement.GetProperty("models")[0].GetProperty("total_seconds").GetDouble(), 1e-9);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void Estimate_UnknownAccelerator_IsAnError()
    {
        var error = new StringWriter();
        Assert.Equal(1, LlmEffCommand.Run(["estimate", "--accelerator", "TPU-v99"], new StringWriter(), error));
        Assert.Contains("TPU-v99", error.ToString(), StringComparison.Ordinal);
    }
}
