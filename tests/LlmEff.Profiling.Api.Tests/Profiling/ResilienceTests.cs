using LlmEff.Profiling.Api.Tests.Emulator;

namespace LlmEff.Profiling.Api.Tests.Profiling;

/// <summary>
/// Injected faults are retried with backoff, honour Retry-After, and end up in the journal. Timeouts and waits run
/// on a <see cref="TestClock"/>: backoff passes at once, and a timeout fires only when the test moves the clock (once
/// the hung request has reached the server), so a slow machine cannot turn one failure into another.
/// </summary>
public sealed class ResilienceTests
{
    private static readonly EmulatedLatency Fast = new() { OverheadSeconds = 0.001, PromptBaseSeconds = 0.001, PromptSecondsPerToken = 0, PerOutputTokenSeconds = 0.0005, NoiseMeanSeconds = 0 };

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private static ApiProfilingOptions Options(TempDirectory dir, TestClock clock, bool stream = false) => new()
    {
        JournalPath = dir.File("journal.jsonl"),
        PromptTokens = [16],
        OutputTokens = [1, 4],
        Trials = 2,
        Stream = stream,
        RequestTimeout = Timeout,
        Retry = Harness.FastRetry with { MaxAttempts = 6 },
        TimeProvider = clock,
    };

    private static TestClock Clock() => new(autoAdvanceBelow: TimeSpan.FromSeconds(10));

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
            4 => new EmulatedFault(EmulatedFaultKind.Hang),
            _ => null,
        };
        var clock = Clock();
        emulator.OnHang = _ => Task.Run(() => clock.Advance(Timeout)); // the request is at the server: now let its timeout expire
        using var endpoint = Harness.Endpoint(emulator);
        using var dir = new TempDirectory();
        var logger = new ListLogger<ApiProfiler>();

        var result = await new ApiProfiler(endpoint, Harness.Cl100k, Options(dir, clock), logger).RunAsync(cancellationToken: TestContext.Current.CancellationToken);

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
        Assert.Equal(Timeout.TotalSeconds, first.Attempts[4].ElapsedSeconds, 6); // measured on the clock the timeout ran on
        // Every wait was really waited for on the clock (timers count whole milliseconds), the first as long as Retry-After.
        Assert.Equal(first.Attempts.Take(5).Select(a => a.DelayBeforeRetrySeconds!.Value), clock.Waits.Select(w => w.TotalSeconds), new Tolerance(1e-3));
        Assert.True(clock.Elapsed.TotalSeconds >= Timeout.TotalSeconds + first.Attempts.Take(5).Sum(a => a.DelayBeforeRetrySeconds!.Value) - 5e-3);
        Assert.Equal(9, emulator.ReceivedCount);
        Assert.Equal(9, result.AttemptsThisRun);
        Assert.Equal(5, logger.Messages.Count(m => m.StartsWith("Warning") && m.Contains("retrying", StringComparison.Ordinal)));
    }

    [Fact(Timeout = 60_000)]
    public async Task RetryAfterAsAnHttpDate_IsWaitedOnTheInjectedClock()
    {
        await using var emulator = await OpenAiEmulator.StartAsync(Fast);
        var clock = new TestClock(autoAdvanceBelow: TimeSpan.FromHours(1));
        emulator.Clock = clock;
        emulator.Faults = n => n == 0 ? new EmulatedFault(EmulatedFaultKind.RateLimitedUntilDate, 90) : null;
        using var endpoint = Harness.Endpoint(emulator, o => o with { TimeProvider = clock });
        using var dir = new TempDirectory();
        var options = Options(dir, clock) with { OutputTokens = [1], Trials = 1, RequestTimeout = TimeSpan.FromHours(2) };

        var result = await new ApiProfiler(endpoint, Harness.Cl100k, options).RunAsync(cancellationToken: TestContext.Current.CancellationToken);

        // 90 s of the fake clock, not of the real one: the test takes milliseconds.
        var limited = Assert.Single(result.Records).Attempts[0];
        Assert.Equal(429, limited.StatusCode);
        Assert.Equal(90, limited.RetryAfterSeconds!.Value, 6);
        Assert.True(limited.DelayBeforeRetrySeconds >= 90);
        Assert.Equal(limited.DelayBeforeRetrySeconds!.Value, Assert.Single(clock.Waits).TotalSeconds, 3);
        Assert.Equal(ApiSampleStatus.Succeeded, result.Records[0].Status);
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

        var result = await new ApiProfiler(endpoint, Harness.Cl100k, Options(dir, Clock(), stream: true)).RunAsync(cancellationToken: TestContext.Current.CancellationToken);

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
        var options = Options(dir, Clock());

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
        var options = Options(dir, Clock()) with { Retry = Harness.FastRetry with { MaxAttempts = 6, MaxRetryAfter = TimeSpan.FromSeconds(1) } };

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

internal sealed class Tolerance(double epsilon) : IEqualityComparer<double>
{
    public bool Equals(double x, double y) => Math.Abs(x - y) <= epsilon;

    public int GetHashCode(double obj) => 0;
}
