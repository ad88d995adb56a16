using LlmEff.Core.Serialization;
using LlmEff.Profiling.Api.Tests.Emulator;

namespace LlmEff.Cli.Tests;

public class ProfileCommandTests
{
    [Fact]
    public async Task ProfileApi_FitsTheDenoisedModel_WritesIt_AndResumesWithoutRepeating()
    {
        // Emulated API: overhead 10 ms + PE 5 ms + 0.1 ms/token, g = 2 ms, non-negative noise (see EmulatedLatency).
        await using var emulator = await OpenAiEmulator.StartAsync(new EmulatedLatency(), seed: 3, apiKey: "sk-secret-test-key");
        var dir = Directory.CreateTempSubdirectory("llmeff-profile");
        Environment.SetEnvironmentVariable("LLMEFF_TEST_KEY", "sk-secret-test-key");
        try
        {
            var journal = Path.Combine(dir.FullName, "journal.jsonl");
            var modelPath = Path.Combine(dir.FullName, "model.json");
            string[] args = ["profile", "api", "--url", emulator.BaseAddress.ToString(), "--model", "emulated", "--api-key-env", "LLMEFF_TEST_KEY", "--journal", journal, "--prompts", "1,128,256", "--outputs", "1,8,16", "--trials", "3", "-o", modelPath];
            var output = new StringWriter();
            var error = new StringWriter();

            Assert.Equal(0, LlmEffCommand.Run(args, output, error));
            Assert.Equal(27, emulator.ReceivedCount);
            var model = RuntimeModelJson.Load(modelPath);
            Assert.Equal(0.002, model.PerOutputTokenSeconds, 0.0005);
            Assert.Equal(LlmEff.Core.RuntimeMetric.Denoised, model.Metadata.Metric);
            Assert.Contains("denoised g =", output.ToString(), StringComparison.Ordinal);

            // A second run finds every request in the journal and sends nothing.
            Assert.Equal(0, LlmEffCommand.Run(args, new StringWriter(), new StringWriter()));
            Assert.Equal(27, emulator.ReceivedCount);

            // The key never reaches the output or the files.
            Assert.DoesNotContain("sk-secret-test-key", output.ToString() + error.ToString(), StringComparison.Ordinal);
            Assert.DoesNotContain("sk-secret-test-key", File.ReadAllText(journal) + File.ReadAllText(modelPath), StringComparison.Ordinal);
        }
        finally
        {
            Environment.SetEnvironmentVariable("LLMEFF_TEST_KEY", null);
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void ProfileApi_BadList_IsAOneLineError()
    {
        var error = new StringWriter();
        var code = LlmEffCommand.Run(["profile", "api", "--url", "http://127.0.0.1:9/v1/", "--model", "m", "--journal", Path.Combine(Path.GetTempPath(), "x.jsonl"), "--prompts", "1,abc"], new StringWriter(), error);
        Assert.Equal(1, code);
        Assert.Contains("--prompts: 'abc'", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void ProfileApi_MissingRequiredOptions_IsAParseError()
    {
        var error = new StringWriter();
        Assert.NotEqual(0, LlmEffCommand.Run(["profile", "api", "--model", "m"], new StringWriter(), error));
        Assert.Contains("--url", error.ToString(), StringComparison.Ordinal);
    }
}
