using LlmEff.Profiling.Api.Tests.Emulator;

namespace LlmEff.Profiling.Api.Tests;

/// <summary>A request cancelled while waiting to be retried is journaled with its attempts but not reported as failed.</summary>
public sealed class CancelledDuringBackoffTests
{
    [Fact(Timeout = 30_000)]
    public async Task CancelledDuringRetryWait_IsJournaledWithItsScheduledRetry_NotCountedAsFailed()
    {
        using var dir = new TempDirectory();
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var endpoint = new StubEndpoint((call, request, _) =>
        {
            if (call < 2)
            {
                return Task.FromResult(StubEndpoint.Ok(request));
            }

            // The third request gets a 503; Ctrl-C arrives while the profiler waits to retry it.
            cts.Cancel();
            throw new EndpointException(EndpointFailureKind.ServerError, "HTTP 503", 503);
        });
        var options = new ApiProfilingOptions
        {
            JournalPath = dir.File("journal.jsonl"),
            PromptTokens = [1],
            OutputTokens = [1, 2],
            Trials = 2,
            TimeProvider = new TestClock(TimeSpan.Zero), // no wait ever fires by itself
        };

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => new ApiProfiler(endpoint, Harness.Cl100k, options).RunAsync(cancellationToken: cts.Token));

        var records = ApiSampleJournal.Read(options.JournalPath);
        var interrupted = Assert.Single(records, r => r.Status == ApiSampleStatus.Failed);

        // It did not fail after all retries (1 of 6 attempts made, a retry scheduled); the report must not call it failed.
        var report = DenoisedRuntimeAnalysis.Analyze(records);
        Assert.Multiple(
            () => Assert.Single(interrupted.Attempts),
            () => Assert.NotNull(interrupted.Attempts[^1].DelayBeforeRetrySeconds),
            () => Assert.Equal(0, report.FailedRequests));
    }
}
