using LlmEff.Profiling.Api.Endpoints;
using LlmEff.Profiling.Api.Journal;
using LlmEff.Profiling.Api.Profiling;
using LlmEff.Profiling.Api.Tests.Emulator;

namespace LlmEff.Profiling.Api.Tests.Profiling;

/// <summary>Injected faults are retried with backoff, honour Retry-After, and end up in the journal.</summary>
public sealed class ResilienceTests
{
    private static readonly EmulatedLatency Fast = new() { OverheadSeconds = 0.001, PromptBaseSeconds = 0.001, PromptSecondsPerToken = 0, PerOutputTokenSeconds = 0.0005, NoiseMeanSeconds = 0 };

    private static ApiProfilingOptions Options(TempDirectory dir, bool stream = false) => new()
    {
        JournalPath = dir.File("journal.jsonl"),
        PromptTokens = [16],
        OutputTokens = [1, 4],
        Trials = 2,
        Stream = stream,
        RequestTimeout = TimeSpan.FromMilliseconds(400),
        Retry = Harness.FastRetry with { MaxAttempts = 6 },
    };

    [Fact(Timeout = 60_000)]
    public async Task EveryTransientFault_IsRetriedAndRecorded()
    {
        await using var emulator = await OpenAiEmulator.StartAsync(Fast);
        emulator.Faults = n => n switch
        {
            0 => new EmulatedFault(EmulatedFaultKind.RateLimited, 0.15),
            1 => new EmulatedFault(EmulatedFaultKind.ServerError),
            2 => new EmulatedFault(EmulatedFaultKind.DropConnection),
            3 => new EmulatedFault(EmulatedFaultKind.MalformedJson),
            4 => new EmulatedFault(EmulatedFaultKind.Slow, 2.0),
            _ => null,
        };
        using var endpoint = Harness.Endpoint(emulator);
        using var dir = new TempDirectory();
        var logger = new ListLogger<ApiProfiler>();

        var result = await new ApiProfiler(endpoint, Harness.Cl100k, Options(dir), logger).RunAsync(cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(4, result.Records.Count);
        Assert.All(result.Records, r => Assert.Equal(ApiSampleStatus.Succeeded, r.Status));
        var first = result.Records[0];
        Assert.Equal(
            new EndpointFailureKind?[] { EndpointFailureKind.RateLimited, EndpointFailureKind.ServerError, EndpointFailureKind.ConnectionFailed, EndpointFailureKind.MalformedResponse, EndpointFailureKind.Timeout, null },
            first.Attempts.Select(a => a.Failure));
        Assert.Equal(429, first.Attempts[0].StatusCode);
        Assert.Equal(0.15, first.Attempts[0].RetryAfterSeconds!.Value, 6);
        Assert.True(first.Attempts[0].DelayBeforeRetrySeconds >= 0.15, "Retry-After must be honoured");
        Assert.Equal(500, first.Attempts[1].StatusCode);
        // Backoff: 10 ms doubled per retry with up to 50% jitter off, capped at 100 ms (Harness.FastRetry).
        Assert.InRange(first.Attempts[1].DelayBeforeRetrySeconds!.Value, 0.010, 0.020);
        Assert.InRange(first.Attempts[2].DelayBeforeRetrySeconds!.Value, 0.020, 0.040);
        Assert.InRange(first.Attempts[3].DelayBeforeRetrySeconds!.Value, 0.040, 0.080);
        Assert.InRange(first.Attempts[4].ElapsedSeconds, 0.35, 1.5); // the 0.4 s timeout (its timer may fire a little early), not the server's 2 s
        Assert.Equal(9, emulator.ReceivedCount);
        Assert.Equal(9, result.AttemptsThisRun);
        Assert.Equal(5, logger.Messages.Count(m => m.StartsWith("Warning") && m.Contains("retrying", StringComparison.Ordinal)));
    }

    [Fact(Timeout = 60_000)]
    public async Task StreamFaults_DroppedOrMalformedMidStream_AreRetried()
    {
        await using var emulator = await OpenAiEmulator.StartAsync(Fast);
        emulator.Faults = n => n switch
        {
            1 => new EmulatedFault(EmulatedFaultKind.DropMidStream),
            2 => new EmulatedFault(EmulatedFaultKind.MalformedJson),
            _ => null,
        };
        using var endpoint = Harness.Endpoint(emulator);
        using var dir = new TempDirectory();

        var result = await new ApiProfiler(endpoint, Harness.Cl100k, Options(dir, stream: true)).RunAsync(cancellationToken: TestContext.Current.CancellationToken);

        Assert.All(result.Records, r => Assert.Equal(ApiSampleStatus.Succeeded, r.Status));
        var retried = result.Records.Single(r => r.Attempts.Count > 1);
        Assert.Equal(4, retried.OutputTokens); // requests 1 and 2 are the o = 4 request and its first retry
        Assert.Equal(
            new EndpointFailureKind?[] { EndpointFailureKind.ConnectionFailed, EndpointFailureKind.MalformedResponse, null },
            retried.Attempts.Select(a => a.Failure));
        Assert.Equal(3, retried.InterTokenGapsSeconds!.Count);
    }

    [Fact(Timeout = 60_000)]
    public async Task ClientErrors_AreNotRetried_AndAResumedRunTriesThemAgain()
    {
        await using var emulator = await OpenAiEmulator.StartAsync(Fast);
        emulator.Faults = n => n == 0 ? new EmulatedFault(EmulatedFaultKind.BadRequest) : null;
        using var endpoint = Harness.Endpoint(emulator);
        using var dir = new TempDirectory();
        var options = Options(dir);

        var first = await new ApiProfiler(endpoint, Harness.Cl100k, options).RunAsync(cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(1, first.Failed);
        var failed = first.Records.Single(r => r.Status == ApiSampleStatus.Failed);
        Assert.Equal(EndpointFailureKind.ClientError, Assert.Single(failed.Attempts).Failure);
        Assert.Equal(4, emulator.ReceivedCount);

        var second = await new ApiProfiler(endpoint, Harness.Cl100k, options).RunAsync(cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(3, second.Skipped);
        Assert.Equal(5, emulator.ReceivedCount); // only the failed request is sent again
        Assert.Equal(4, second.Records.Count(r => r.Status == ApiSampleStatus.Succeeded));
        Assert.Equal(failed.Key, second.Records[^1].Key);
    }

    [Fact(Timeout = 60_000)]
    public async Task PersistentServerErrors_FailAfterMaxAttempts_AndTooLongRetryAfterFailsAtOnce()
    {
        await using var emulator = await OpenAiEmulator.StartAsync(Fast);
        emulator.Faults = n => n < 6 ? new EmulatedFault(EmulatedFaultKind.ServerError) : n == 6 ? new EmulatedFault(EmulatedFaultKind.RateLimited, 30) : null;
        using var endpoint = Harness.Endpoint(emulator);
        using var dir = new TempDirectory();
        var options = Options(dir) with { Retry = Harness.FastRetry with { MaxAttempts = 6, MaxRetryAfter = TimeSpan.FromSeconds(1) } };

        var result = await new ApiProfiler(endpoint, Harness.Cl100k, options).RunAsync(cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(2, result.Failed);
        Assert.Equal(6, result.Records[0].Attempts.Count);
        Assert.All(result.Records[0].Attempts, a => Assert.Equal(500, a.StatusCode));
        Assert.Null(result.Records[0].Attempts[^1].DelayBeforeRetrySeconds);
        var rateLimited = Assert.Single(result.Records[1].Attempts);
        Assert.Equal(30, rateLimited.RetryAfterSeconds);
        Assert.Equal(ApiSampleStatus.Failed, result.Records[1].Status);
        Assert.Equal(9, emulator.ReceivedCount); // 6 attempts, 1 refused Retry-After, 2 clean requests
    }
}
