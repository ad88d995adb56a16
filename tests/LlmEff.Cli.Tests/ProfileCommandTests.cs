using LlmEff.Core.Serialization;
using LlmEff.Profiling.Api.Tests.Emulator;
using Microsoft.Extensions.Time.Testing;

namespace LlmEff.Cli.Tests;

public class ProfileCommandTests
{
    [Fact]
    public async Task ProfileApi_FitsTheDenoisedModel_WritesIt_AndResumesWithoutRepeating()
    {
        // Emulated API: overhead 10 ms + PE 5 ms + 0.1 ms/token, g = 2 ms, non-negative noise (see EmulatedLatency).
        await using var emulator = await OpenAiEmulator.StartAsync(new EmulatedLatency(), seed: 3, apiKey: "sk-secret-test-key");
        var clock = new FakeTimeProvider();
        emulator.VirtualClock = clock;
        var dir = Directory.CreateTempSubdirectory("llmeff-profile");
        Environment.SetEnvironmentVariable("LLMEFF_TEST_KEY", "sk-secret-test-key");
        try
        {
            var journal = Path.Combine(dir.FullName, "journal.jsonl");
            var modelPath = Path.Combine(dir.FullName, "model.json");
            var requests = Path.Combine(dir.FullName, "requests.csv");
            string[] args = ["profile", "api", "--url", emulator.BaseAddress.ToString(), "--model", "emulated", "--api-key-env", "LLMEFF_TEST_KEY", "--journal", journal, "--prompts", "1,128,256", "--outputs", "1,8,16", "--trials", "3", "-o", modelPath, "--export-requests", requests];
            var output = new StringWriter();
            var error = new StringWriter();

            Assert.Equal(0, LlmEffCommand.Run(args, output, error, clock, CancellationToken.None));
            Assert.Equal(27, emulator.ReceivedCount);
            var model = RuntimeModelJson.Load(modelPath);
            // Timed on the emulator's clock: the noise is only in the prompt part, so the minimum over trials finds g.
            Assert.Equal(0.002, model.PerOutputTokenSeconds, 1e-4);
            Assert.Equal(LlmEff.Core.RuntimeMetric.Denoised, model.Metadata.Metric);
            Assert.Contains("denoised g =", output.ToString(), StringComparison.Ordinal);
            Assert.Contains("output length: 0 answers (0.0 %) generated another length than asked", output.ToString(), StringComparison.Ordinal);
            Assert.Equal(27, LlmEff.Core.Serialization.ProfilingSampleCsv.ReadFile(requests).Count);

            // A second run finds every request in the journal and sends nothing.
            Assert.Equal(0, LlmEffCommand.Run(args, new StringWriter(), new StringWriter(), clock, CancellationToken.None));
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
    public async Task ProfileApi_NonPhysicalFit_IsPrintedButNotWritten_UnlessKept_AndTheJournalKeepsTheRequests()
    {
        // A server whose long answers come back sooner than short ones: the denoised fit finds g < 0.
        await using var emulator = await OpenAiEmulator.StartAsync(new EmulatedLatency { NoiseMeanSeconds = 0, PerOutputTokenSeconds = -0.0002 });
        var clock = new FakeTimeProvider();
        emulator.VirtualClock = clock;
        using var dir = new TempDir();
        var modelPath = dir.File("model.json");
        string[] args = ["profile", "api", "--url", emulator.BaseAddress.ToString(), "--model", "emulated", "--api-key-env", "", "--journal", dir.File("j.jsonl"), "--prompts", "1,64", "--outputs", "1,8", "--trials", "2", "-o", modelPath];

        var refused = CliRunner.RunOn(clock, args);

        // After the status line of the run, one error line and no trace.
        Assert.Equal(1, refused.Code);
        var error = Assert.Single(refused.Err.Split('\n', '\r'), l => l.StartsWith("llmeff:", StringComparison.Ordinal));
        Assert.All(
            new[] { "llmeff: error: the denoised fit is not physical", "not written to model.json", "rerun with more --trials (only the new trials are sent)", "--keep-non-physical" },
            f => Assert.Contains(f, error, StringComparison.Ordinal));
        Assert.DoesNotContain("   at ", refused.Err, StringComparison.Ordinal);
        Assert.Contains("warning: ", refused.Out, StringComparison.Ordinal);
        Assert.Contains("denoised g = -0.200 ms/token", refused.Out, StringComparison.Ordinal);
        Assert.False(File.Exists(modelPath));
        Assert.Equal(8, emulator.ReceivedCount);

        // As the error says, more trials into the same journal send only the new ones (the fit stays g < 0 here: the server is so).
        var more = CliRunner.RunOn(clock, [.. args.Select(a => a == "2" ? "3" : a)]);
        Assert.Equal(1, more.Code);
        Assert.Equal(12, emulator.ReceivedCount);

        // Kept on purpose: the journal answers every request, and the model carries its warnings.
        var kept = CliRunner.RunOn(clock, [.. args, "--keep-non-physical"]);
        Assert.True(kept.Code == 0, kept.Err);
        Assert.Equal(12, emulator.ReceivedCount);
        var model = RuntimeModelJson.Load(modelPath);
        Assert.Equal(-0.0002, model.PerOutputTokenSeconds, 1e-9);
        Assert.Contains(model.Warnings, w => w.Kind == LlmEff.Core.RuntimeFitWarningKind.NonPositiveDecodeTime);
    }

    [Fact]
    public async Task ProfileApi_WithTokenIds_ExportsRequestsThatFitTheSameModelThroughTheImporter()
    {
        await using var emulator = await OpenAiEmulator.StartAsync(new EmulatedLatency(), seed: 5);
        var clock = new FakeTimeProvider();
        emulator.VirtualClock = clock;
        using var dir = new TempDir();
        string[] profile =
        [
            "profile", "api", "--url", emulator.BaseAddress.ToString(), "--model", "emulated", "--api-key-env", "", "--token-ids", "--stream",
            "--journal", dir.File("grid.jsonl"), "--prompts", "1,128,256", "--outputs", "1,8,16", "--trials", "2",
            "-o", dir.File("profiled.json"), "--export-requests", dir.File("requests.json"),
        ];

        var run = CliRunner.RunOn(clock, profile);
        Assert.True(run.Code == 0, run.Err);
        Assert.All(emulator.Requests, r => Assert.Matches("^[0-9]+(,[0-9]+)*$", r.PromptKey));

        // The export is a log like any other tool's: autodetected, every request kept, the same denoised fit.
        // Two trials of the emulator's noise can fit below the R² bar; profile api keeps such a fit, so the refit must too.
        var refit = CliRunner.Run(["fit", dir.File("requests.json"), "--keep-non-physical", "-o", dir.File("refit.json")]);
        Assert.True(refit.Code == 0, refit.Err);
        Assert.Contains("llmeff", refit.Out, StringComparison.Ordinal);
        var profiled = RuntimeModelJson.Load(dir.File("profiled.json"));
        var imported = RuntimeModelJson.Load(dir.File("refit.json"));
        Assert.Equal(profiled.PerOutputTokenSeconds, imported.PerOutputTokenSeconds, 1e-9);
        foreach (var p in new[] { 1, 128, 256 })
        {
            Assert.Equal(profiled.PromptEncodingSeconds(p), imported.PromptEncodingSeconds(p), 1e-9);
        }
    }

    [Fact]
    public async Task ProfileApi_ConcurrencySweep_PrintsLevels_ExportsRequestsAndSummary_PlotsAndResumes()
    {
        await using var emulator = await OpenAiEmulator.StartAsync(new EmulatedLatency { NoiseMeanSeconds = 0 });
        using var dir = new TempDir();
        string[] args =
        [
            "profile", "api", "--url", emulator.BaseAddress.ToString(), "--model", "emulated", "--api-key-env", "", "--journal", dir.File("load.jsonl"),
            "--concurrency", "1,2", "--max-requests", "4", "--prompts", "16", "--outputs", "8", "--slo", "ttft=5,tpot=1",
            "--export-requests", dir.File("requests.json"), "--summary", dir.File("summary.json"),
        ];

        var result = CliRunner.Run(args);

        Assert.True(result.Code == 0, result.Err);
        Assert.Equal(8, emulator.ReceivedCount);
        Assert.Contains("TTFT p50/p90/p99 ms", result.Out, StringComparison.Ordinal);
        Assert.Contains("goodput (ttft=5,tpot=1)", result.Out, StringComparison.Ordinal);
        Assert.Contains("c=2", result.Out, StringComparison.Ordinal);
        Assert.Contains("output length: 0 of 8 answers", result.Out, StringComparison.Ordinal);
        using (var summary = System.Text.Json.JsonDocument.Parse(File.ReadAllText(dir.File("summary.json"))))
        {
            var levels = summary.RootElement.GetProperty("levels");
            Assert.Equal(new[] { 1.0, 2.0 }, levels.EnumerateArray().Select(l => l.GetProperty("load").GetDouble()));
            Assert.All(levels.EnumerateArray(), l => Assert.Equal(4, l.GetProperty("meeting_objectives").GetInt32()));
        }

        using (var requests = System.Text.Json.JsonDocument.Parse(File.ReadAllText(dir.File("requests.json"))))
        {
            Assert.Equal(8, requests.RootElement.GetArrayLength());
            Assert.All(requests.RootElement.EnumerateArray(), r => Assert.Equal(8, r.GetProperty("output_tokens").GetInt32()));
        }

        // The same command again finds both levels in the journal and sends nothing.
        var again = CliRunner.Run(args);
        Assert.True(again.Code == 0, again.Err);
        Assert.Contains("0 levels run, 2 resumed", again.Out, StringComparison.Ordinal);
        Assert.Equal(8, emulator.ReceivedCount);

        var figure = dir.File("load.svg");
        var plot = CliRunner.Run("plot", "load-study", dir.File("load.jsonl"), "-o", figure, "--slo", "e2e=10");
        Assert.True(plot.Code == 0, plot.Err);
        Assert.Contains("<svg", File.ReadAllText(figure), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ProfileApi_RequestRate_WithADuration_ExportsCsv()
    {
        await using var emulator = await OpenAiEmulator.StartAsync(new EmulatedLatency { NoiseMeanSeconds = 0 });
        using var dir = new TempDir();

        var result = CliRunner.Run(
            "profile", "api", "--url", emulator.BaseAddress.ToString(), "--model", "emulated", "--api-key-env", "", "--journal", dir.File("rate.jsonl"),
            "--request-rate", "20", "--max-requests", "5", "--duration", "30", "--seed", "3", "--prompts", "16", "--outputs", "4", "--export-requests", dir.File("requests.csv"));

        Assert.True(result.Code == 0, result.Err);
        Assert.Contains("20 req/s", result.Out, StringComparison.Ordinal);
        Assert.Equal(5, emulator.ReceivedCount);
        var samples = LlmEff.Core.Serialization.ProfilingSampleCsv.ReadFile(dir.File("requests.csv"));
        Assert.Equal(5, samples.Count);
        Assert.All(samples, s => Assert.Equal((16, 4), (s.PromptTokens, s.OutputTokens)));
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

    [Theory]
    [InlineData("--outputs", "4", "--outputs 4: the denoised fit needs at least two output lengths")]
    [InlineData("--outputs", "4,4", "--prompts and --outputs must not repeat a value; use --trials")]
    [InlineData("--prompts", "8,8", "--prompts and --outputs must not repeat a value; use --trials")]
    [InlineData("--timeout", "0", "--timeout 0")]
    [InlineData("--max-attempts", "0", "--max-attempts 0")]
    [InlineData("--adaptive", "5", "--adaptive 5: give at least 6 queries")]
    [InlineData("--adaptive", "10", "--adaptive chooses among the --prompts × --outputs candidates")]
    public async Task ProfileApi_BadPlan_FailsBeforeSendingAnything(string option, string value, string fragment)
    {
        await using var emulator = await OpenAiEmulator.StartAsync(new EmulatedLatency());
        using var dir = new TempDir();
        var args = new Dictionary<string, string> { ["--url"] = emulator.BaseAddress.ToString(), ["--model"] = "m", ["--api-key-env"] = "", ["--journal"] = dir.File("j.jsonl"), ["--prompts"] = "1,8", ["--outputs"] = "1,4", ["--trials"] = "1" };
        args[option] = value;

        var result = CliRunner.Run(["profile", "api", .. args.SelectMany(a => new[] { a.Key, a.Value })]);

        CliRunner.AssertOneLineError(result, fragment);
        Assert.Equal(0, emulator.ReceivedCount);
        Assert.False(File.Exists(dir.File("j.jsonl")));
    }

    [Fact]
    public void ProfileApi_RefusedConnection_SaysWhy()
    {
        // A port nobody listens on: bind one, note it, close it.
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        using var dir = new TempDir();

        var result = CliRunner.Run("profile", "api", "--url", $"http://127.0.0.1:{port}/v1/", "--model", "m", "--api-key-env", "", "--journal", dir.File("j.jsonl"), "--prompts", "8", "--outputs", "1,2", "--trials", "1", "--max-attempts", "1");

        Assert.Equal(1, result.Code);
        var lines = result.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        // The logger reports each failure as it happens, and the final error gives the reason, not only the count.
        Assert.Equal(2, lines.Count(l => l.StartsWith("llmeff: error: p=8", StringComparison.Ordinal)));
        var last = lines[^1];
        Assert.StartsWith("llmeff: error: The 2 records hold no usable sample: 2 failed (2 × ConnectionFailed:", last, StringComparison.Ordinal);
        Assert.Contains($"127.0.0.1:{port}", last, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ProfileApi_Timeout_BoundsAStuckServer()
    {
        await using var emulator = await OpenAiEmulator.StartAsync(new EmulatedLatency());
        emulator.Faults = _ => new EmulatedFault(EmulatedFaultKind.Hang);
        using var dir = new TempDir();
        var clock = System.Diagnostics.Stopwatch.StartNew();

        var result = CliRunner.Run("profile", "api", "--url", emulator.BaseAddress.ToString(), "--model", "m", "--api-key-env", "", "--journal", dir.File("j.jsonl"), "--prompts", "8", "--outputs", "1,2", "--trials", "1", "--timeout", "0.2", "--max-attempts", "1");

        // The server never answers, so the outcome cannot depend on the machine's speed; only the duration bound does, loosely.
        Assert.Equal(1, result.Code);
        Assert.Contains("2 × Timeout: No complete answer within 0.2 s", result.Err, StringComparison.Ordinal);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"took {clock.Elapsed}");
        Assert.Equal(2, emulator.ReceivedCount);
    }

    [Fact]
    public async Task ProfileApi_PasswordInTheUrl_IsNeverPrinted_AndAnotherModelCannotReuseTheJournal()
    {
        await using var emulator = await OpenAiEmulator.StartAsync(new EmulatedLatency { NoiseMeanSeconds = 0 });
        var clock = new FakeTimeProvider();
        emulator.VirtualClock = clock;
        using var dir = new TempDir();
        var password = "pw" + Guid.NewGuid().ToString("N");
        var url = new UriBuilder(emulator.BaseAddress) { UserName = "alice", Password = password }.Uri.AbsoluteUri;
        var journal = dir.File("j.jsonl");
        var modelPath = dir.File("model.json");
        string[] args = ["profile", "api", "--url", url, "--model", "emulated", "--api-key-env", "", "--journal", journal, "--prompts", "1,64", "--outputs", "1,8", "--trials", "2", "-o", modelPath];

        var result = CliRunner.RunOn(clock, args);

        Assert.True(result.Code == 0, result.Err);
        Assert.Contains("left out 0 whose token counts cannot be trusted", result.Out, StringComparison.Ordinal);
        foreach (var text in new[] { result.Out, result.Err, File.ReadAllText(journal), File.ReadAllText(modelPath) })
        {
            Assert.DoesNotContain(password, text, StringComparison.Ordinal);
        }

        var other = CliRunner.RunOn(clock, [.. args.Select(a => a == "emulated" ? "another" : a)]);
        CliRunner.AssertOneLineError(other, "is the journal of another run", "model: 'emulated' vs 'another'");
        Assert.DoesNotContain(password, other.Err, StringComparison.Ordinal);
        Assert.Equal(8, emulator.ReceivedCount);
    }

    [Fact]
    public void ProfileApi_JournalWithAWrongHeader_IsAOneLineError()
    {
        using var dir = new TempDir();
        var journal = dir.File("j.jsonl", "{\"schema\": 5}\n");

        var result = CliRunner.Run("profile", "api", "--url", "http://127.0.0.1:9/v1/", "--model", "m", "--api-key-env", "", "--journal", journal, "--prompts", "8", "--outputs", "1,2");

        CliRunner.AssertOneLineError(result, "\"schema\" is 5");
    }

    [Fact]
    public async Task ProfileApi_KilledMidRequest_ResumesWithNoSampleLostOrDuplicated()
    {
        await using var emulator = await OpenAiEmulator.StartAsync(new EmulatedLatency { NoiseMeanSeconds = 0 });
        var hung = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        emulator.Faults = n => n == 4 ? new EmulatedFault(EmulatedFaultKind.Hang) : null;
        emulator.OnHang = _ => hung.TrySetResult();
        using var dir = new TempDir();
        var journal = dir.File("j.jsonl");
        string[] args = ["profile", "api", "--url", emulator.BaseAddress.ToString(), "--model", "emulated", "--api-key-env", "", "--journal", journal, "--prompts", "1,64", "--outputs", "1,8", "--trials", "3"];

        // The tool in a child process, killed (SIGKILL on Unix: no cleanup, no flush) while request 4 is on the wire.
        var start = CliRunner.ChildProcess(args);

        using (var child = System.Diagnostics.Process.Start(start)!)
        {
            var drained = Task.WhenAll(child.StandardOutput.ReadToEndAsync(), child.StandardError.ReadToEndAsync());
            var stopped = child.WaitForExitAsync(TestContext.Current.CancellationToken);
            if (await Task.WhenAny(hung.Task, stopped).WaitAsync(TimeSpan.FromMinutes(3), TestContext.Current.CancellationToken) == stopped)
            {
                Assert.Fail($"the tool exited ({child.ExitCode}) before the hanging request: {string.Join("\n", await drained)}");
            }

            child.Kill(entireProcessTree: true);
            await child.WaitForExitAsync(TestContext.Current.CancellationToken);
            await drained;
        }

        Assert.Equal(4, LlmEff.Profiling.Api.ApiSampleJournal.Read(journal).Count);

        emulator.Faults = null;
        var resumed = CliRunner.Run(args);

        Assert.True(resumed.Code == 0, resumed.Err);
        var records = LlmEff.Profiling.Api.ApiSampleJournal.Read(journal);
        Assert.Equal(12, records.Count);
        Assert.Equal(12, records.Select(r => r.Key).Distinct().Count());
        // Only the request the kill cut off reached the server twice.
        var prompts = emulator.Requests.GroupBy(q => q.PromptKey).ToArray();
        Assert.Equal(12, prompts.Length);
        Assert.Single(prompts, g => g.Count() == 2);
        Assert.Equal(13, emulator.ReceivedCount);
    }
}
