using LlmEff.Profiling.Api.Tests.Emulator;

namespace LlmEff.Profiling.Api.Tests.Profiling;

/// <summary>Usage mismatches, the chat route and API-key hygiene.</summary>
public sealed class EndpointBehaviourTests
{
    private static readonly EmulatedLatency Fast = new() { OverheadSeconds = 0.001, PromptBaseSeconds = 0.001, PromptSecondsPerToken = 0.00001, PerOutputTokenSeconds = 0.0002, NoiseMeanSeconds = 0 };

    [Fact(Timeout = 60_000)]
    public async Task EarlyEos_IsKeptFlaggedCounted_AndLeftOutOfTheFitUnlessReportedLengthsAreFitted()
    {
        // Without ignore_eos or min_tokens the emulator stops after 3 tokens, as a model hitting EOS would.
        await using var emulator = await OpenAiEmulator.StartAsync(Fast, eosAfterTokens: 3);
        using var endpoint = Harness.Endpoint(emulator, o => o with { IgnoreEos = false, SendMinTokens = false });
        using var dir = new TempDirectory();
        var logger = new ListLogger<ApiProfiler>();
        var options = new ApiProfilingOptions { JournalPath = dir.File("j.jsonl"), PromptTokens = [8, 24], OutputTokens = [1, 2, 8], Trials = 2 };

        var result = await new ApiProfiler(endpoint, Harness.Cl100k, options, logger).RunAsync(cancellationToken: TestContext.Current.CancellationToken);

        var mismatched = result.Records.Where(r => r.CountMismatch).ToArray();
        Assert.Equal(4, mismatched.Length); // o = 8 for 2 prompt sizes × 2 trials
        Assert.All(mismatched, r =>
        {
            Assert.Equal(8, r.OutputTokens);
            Assert.Equal(3, r.ReportedOutputTokens);
            Assert.Equal("stop", r.FinishReason);
            Assert.Equal(3, r.ToProfilingSample()!.OutputTokens);
        });
        Assert.All(result.Records.Where(r => !r.CountMismatch), r => Assert.Equal(r.OutputTokens, r.ReportedOutputTokens));
        Assert.Single(logger.Messages, m => m.StartsWith("Warning") && m.Contains("reported", StringComparison.Ordinal));

        // By default the answers of another length than asked are left out of the fit, and counted.
        var report = DenoisedRuntimeAnalysis.Analyze(result.Records);
        Assert.Equal(4, report.OutputLengthMismatches);
        Assert.Equal(4 / 12.0, report.OutputLengthMismatchShare, 12);
        Assert.Equal(4, report.Exclusions.Count(e => e.Reason.Contains("3 output tokens where 8 were asked for", StringComparison.Ordinal)));
        Assert.Equal(new[] { 1, 2 }, report.Configurations.Select(c => c.OutputTokens).Distinct().Order());

        var fitted = DenoisedRuntimeAnalysis.Analyze(result.Records, fitReportedLength: true);
        Assert.Equal(4, fitted.MismatchedSamples);
        Assert.Equal(4, fitted.OutputLengthMismatches);
        Assert.Equal(new[] { 1, 2, 3 }, fitted.Configurations.Select(c => c.OutputTokens).Distinct().Order());
    }

    [Fact(Timeout = 60_000)]
    public async Task MinTokens_IsSentByDefault_SoTheLengthIsExact_AndDroppedWhenTheServerRefusesIt()
    {
        await using var emulator = await OpenAiEmulator.StartAsync(Fast, eosAfterTokens: 3);
        using var endpoint = Harness.Endpoint(emulator, o => o with { IgnoreEos = false });
        using var dir = new TempDirectory();
        var options = new ApiProfilingOptions { JournalPath = dir.File("j.jsonl"), PromptTokens = [8], OutputTokens = [1, 8], Trials = 1 };

        var result = await new ApiProfiler(endpoint, Harness.Cl100k, options).RunAsync(cancellationToken: TestContext.Current.CancellationToken);

        Assert.All(result.Records, r => Assert.False(r.OutputLengthMismatch));
        Assert.False(endpoint.MinTokensRefused);

        // A server that does not know min_tokens refuses it once; the request is sent again without it, and so are the rest.
        await using var hosted = await OpenAiEmulator.StartAsync(Fast, eosAfterTokens: 3);
        hosted.RefuseMinTokens = true;
        using var plain = Harness.Endpoint(hosted, o => o with { IgnoreEos = false });
        var second = await new ApiProfiler(plain, Harness.Cl100k, options with { JournalPath = dir.File("k.jsonl") }).RunAsync(cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(plain.MinTokensRefused);
        Assert.Equal(1, hosted.RefusedMinTokens);
        Assert.All(second.Records, r => Assert.Equal(ApiSampleStatus.Succeeded, r.Status));
        var mismatch = Assert.Single(second.Records, r => r.OutputLengthMismatch); // o = 8 ended after 3 tokens, counted
        Assert.Equal(3, mismatch.ReportedOutputTokens);
    }

    [Fact(Timeout = 60_000)]
    public async Task ReasoningModel_CountsHiddenTokens_AndTimesFirstTokenAndFirstContentSeparately()
    {
        // 4 of 6 tokens are reasoning, streamed as reasoning_content 20 ms apart before the first content token.
        await using var emulator = await OpenAiEmulator.StartAsync(Fast with { PerOutputTokenSeconds = 0.02 });
        emulator.ReasoningTokens = 4;
        using var endpoint = Harness.Endpoint(emulator, o => o with { Api = OpenAiApiKind.ChatCompletions, SendTokenIds = false });
        using var dir = new TempDirectory();
        var options = new ApiProfilingOptions { JournalPath = dir.File("j.jsonl"), PromptTokens = [10], OutputTokens = [1, 6], Trials = 1, Stream = true };

        var result = await new ApiProfiler(endpoint, Harness.Cl100k, options).RunAsync(cancellationToken: TestContext.Current.CancellationToken);

        var six = Assert.Single(result.Records, r => r.OutputTokens == 6);
        Assert.Equal(ApiSampleStatus.Succeeded, six.Status);
        Assert.Equal(6, six.ReportedOutputTokens); // o counts every generated token, the hidden ones included
        Assert.Equal(4, six.ReportedReasoningTokens);
        Assert.Equal(5, six.InterTokenGapsSeconds!.Count);
        // Both first-token times are recorded, in order; their exact distance is checked on an injected clock in
        // StreamTimingTests, as the emulator's real-time stream catches up after a late first token on a busy machine.
        Assert.True(six.TimeToFirstContentTokenSeconds!.Value >= six.TimeToFirstTokenSeconds!.Value);
        var one = Assert.Single(result.Records, r => r.OutputTokens == 1);
        Assert.Null(one.TimeToFirstContentTokenSeconds); // its only token was reasoning
        Assert.NotNull(one.TimeToFirstTokenSeconds);
    }

    [Fact(Timeout = 60_000)]
    public async Task ChatRoute_CountsTheTemplateTokens_FromReportedUsage()
    {
        await using var emulator = await OpenAiEmulator.StartAsync(Fast);
        using var endpoint = Harness.Endpoint(emulator, o => o with { Api = OpenAiApiKind.ChatCompletions, SendTokenIds = false });
        using var dir = new TempDirectory();
        var options = new ApiProfilingOptions { JournalPath = dir.File("j.jsonl"), PromptTokens = [10, 40], OutputTokens = [1, 3], Trials = 1, Stream = true };

        var result = await new ApiProfiler(endpoint, Harness.Cl100k, options).RunAsync(cancellationToken: TestContext.Current.CancellationToken);

        Assert.All(result.Records, r =>
        {
            Assert.True(emulator.Requests.All(q => q.Chat));
            Assert.Equal(r.PromptTokens + emulator.ChatTemplateTokens, r.ReportedPromptTokens);
            Assert.True(r.CountMismatch);
            Assert.Equal(r.OutputTokens - 1, r.InterTokenGapsSeconds!.Count); // the role-only first chunk is no token
        });
        var report = DenoisedRuntimeAnalysis.Analyze(result.Records);
        Assert.Equal(new[] { 15, 45 }, report.Model.ProfiledPromptTokens);
    }

    [Fact(Timeout = 60_000)]
    public async Task ApiKey_NeverAppearsInLogsJournalsOrExceptions()
    {
        var variable = "LLMEFF_TEST_KEY_" + Guid.NewGuid().ToString("N");
        var key = "sk-test-" + Guid.NewGuid().ToString("N");
        Environment.SetEnvironmentVariable(variable, key);
        try
        {
            await using var emulator = await OpenAiEmulator.StartAsync(Fast, apiKey: key);
            // Request 0 gets a 503 whose body echoes the Authorization header, as misconfigured proxies do.
            emulator.Faults = n => n == 0 ? new EmulatedFault(EmulatedFaultKind.EchoAuthorization) : null;
            using var endpoint = Harness.Endpoint(emulator, o => o with { ApiKeyEnvironmentVariable = variable });
            using var dir = new TempDirectory();
            var logger = new ListLogger<ApiProfiler>();
            var options = new ApiProfilingOptions { JournalPath = dir.File("j.jsonl"), PromptTokens = [8], OutputTokens = [1, 2], Trials = 1, Retry = Harness.FastRetry };

            var result = await new ApiProfiler(endpoint, Harness.Cl100k, options, logger).RunAsync(cancellationToken: TestContext.Current.CancellationToken);

            Assert.All(result.Records, r => Assert.Equal(ApiSampleStatus.Succeeded, r.Status));
            var journal = File.ReadAllText(options.JournalPath);
            Assert.Contains("[redacted]", journal, StringComparison.Ordinal);
            Assert.DoesNotContain(key, journal, StringComparison.Ordinal);
            Assert.DoesNotContain(variable, journal, StringComparison.Ordinal);
            Assert.NotEmpty(logger.Messages);
            Assert.All(logger.Messages, m => Assert.DoesNotContain(key, m, StringComparison.Ordinal));
            Assert.DoesNotContain(key, endpoint.Description, StringComparison.Ordinal);

            // A wrong key gets a 401, which is not retried; its message must not carry the key either.
            var wrong = "sk-wrong-" + Guid.NewGuid().ToString("N");
            Environment.SetEnvironmentVariable(variable, wrong);
            using var wrongEndpoint = Harness.Endpoint(emulator, o => o with { ApiKeyEnvironmentVariable = variable });
            var error = await Assert.ThrowsAsync<EndpointException>(() => wrongEndpoint.SendAsync(
                new EndpointRequest(Harness.Cl100k.Create(8, 1), 1, Stream: false), TestContext.Current.CancellationToken));
            Assert.Equal(401, error.StatusCode);
            Assert.False(error.IsTransient);
            Assert.DoesNotContain(wrong, error.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
    }

    [Fact]
    public void MissingKeyVariable_IsNamedInTheError()
    {
        var variable = "LLMEFF_UNSET_" + Guid.NewGuid().ToString("N");
        var options = new OpenAiEndpointOptions { BaseAddress = new Uri("http://127.0.0.1:9/v1/"), Model = "m", ApiKeyEnvironmentVariable = variable };
        var error = Assert.Throws<ArgumentException>(() => new OpenAiCompatibleEndpoint(options));
        Assert.Contains(variable, error.Message, StringComparison.Ordinal);
    }
}
