using LlmEff.Core;
using LlmEff.Core.Serialization;

namespace LlmEff.Cli.Tests;

public class FitCommandTests
{
    [Fact]
    public void Fit_PrintsParametersAndErrorEstimate_AndWritesTheModel()
    {
        var dir = Directory.CreateTempSubdirectory("llmeff-fit");
        try
        {
            var csv = Path.Combine(dir.FullName, "samples.csv");
            var json = Path.Combine(dir.FullName, "model.json");
            // PE(p) = 0.02 + 1e-4·p, g = 25 ms: the printed and written parameters must be these.
            ProfilingSampleCsv.WriteFile(csv, from p in new[] { 1, 256, 512, 1024 } from o in new[] { 1, 8, 32, 64 } select new ProfilingSample(p, o, 0.02 + (1e-4 * p) + (0.025 * (o - 1))));

            var output = new StringWriter();
            var code = LlmEffCommand.Run(["fit", csv, "-o", json, "--bootstrap", "50"], output, new StringWriter());

            Assert.Equal(0, code);
            var text = output.ToString();
            Assert.Contains("g = 25.000 ms/token", text, StringComparison.Ordinal);
            Assert.Contains("leave one prompt size out", text, StringComparison.Ordinal);
            var model = RuntimeModelJson.Load(json);
            Assert.Equal(0.025, model.PerOutputTokenSeconds, 1e-12);
            Assert.Equal(0.02 + 0.0512, model.PromptEncodingSeconds(512), 1e-12);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void Fit_MalformedCsv_GivesLineAndColumn()
    {
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, "prompt_tokens,output_tokens,runtime_seconds\n1,1,0.1\n1,two,0.2\n");
            var error = new StringWriter();
            Assert.Equal(1, LlmEffCommand.Run(["fit", file], new StringWriter(), error));
            Assert.Contains("line 3, column 2", error.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void Fit_TooFewOutputLengths_ExplainsTheFix()
    {
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, "prompt_tokens,output_tokens,runtime_seconds\n1,1,0.1\n1,1,0.2\n");
            var error = new StringWriter();
            Assert.Equal(1, LlmEffCommand.Run(["fit", file, "--bootstrap", "0"], new StringWriter(), error));
            Assert.Contains("distinct output lengths", error.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void Fit_OfABenchmarkLog_PrintsTheImportSummary_ThenTheFit()
    {
        var dir = Directory.CreateTempSubdirectory("llmeff-fit-log");
        try
        {
            var log = Path.Combine(dir.FullName, "vllm-result.json");
            File.WriteAllText(log, BadInputTests.VllmLog(error: null));

            foreach (var args in new[] { new[] { "fit", log, "--bootstrap", "0" }, ["fit", log, "--from", "vllm", "--bootstrap", "0"] })
            {
                var output = new StringWriter();
                var error = new StringWriter();
                Assert.True(LlmEffCommand.Run(args, output, error) == 0, error.ToString());
                var text = output.ToString();
                Assert.Contains("vllm-result.json: vllm log, bench serve result", text, StringComparison.Ordinal);
                Assert.Contains("requests read: 9, kept: 9, excluded: 0", text, StringComparison.Ordinal);
                Assert.Contains("g = 25.000 ms/token", text, StringComparison.Ordinal);
                Assert.True(text.IndexOf("requests read", StringComparison.Ordinal) < text.IndexOf("g = ", StringComparison.Ordinal));
            }
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void Fit_AllAggregation_CountsConfigurationsNotSamples()
    {
        // With All every sample is its own residual; the header once reported the 27 samples as 27 configurations.
        using var dir = new TempDir();
        var csv = dir.File("s.csv");
        var samples = from p in new[] { 1, 256, 512 }
                      from o in new[] { 1, 8, 32 }
                      from t in Enumerable.Range(0, 3)
                      select new ProfilingSample(p, o, 0.02 + (0.0001 * p) + (0.03 * (o - 1)) + (0.0001 * t)) { Trial = t };
        ProfilingSampleCsv.WriteFile(csv, samples);

        var (code, output, err) = CliRunner.Run("fit", csv, "--aggregation", "All", "--bootstrap", "0");

        Assert.True(code == 0, err);
        Assert.Contains("27 samples, 9 configurations", output, StringComparison.Ordinal);
        var minimum = CliRunner.Run("fit", csv, "--bootstrap", "0");
        Assert.Contains("27 samples, 9 configurations after Minimum aggregation", minimum.Out, StringComparison.Ordinal);
    }
}
