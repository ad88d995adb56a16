using LlmEff.Profiling.Api.Tests.Emulator;

namespace LlmEff.Profiling.Api.Tests.Profiling;

/// <summary>Interrupted and budget-capped runs stop cleanly and resume without repeating finished requests.</summary>
public sealed class ResumeAndBudgetTests
{
    private static readonly EmulatedLatency Fast = new() { OverheadSeconds = 0.001, PromptBaseSeconds = 0.001, PromptSecondsPerToken = 0, PerOutputTokenSeconds = 0.0002, NoiseMeanSeconds = 0 };

    private static ApiProfilingOptions Options(TempDirectory dir) => new()
    {
        JournalPath = dir.File("journal.jsonl"),
        PromptTokens = [16, 32],
        OutputTokens = [2, 4],
        Trials = 3,
        Retry = Harness.FastRetry,
    };

    private static void AssertNoRepeats(OpenAiEmulator emulator)
    {
        // Every planned request has its own seeded prompt, so a repeated request shows up as a repeated prompt.
        var keys = emulator.Requests.Select(r => r.PromptKey).ToArray();
        Assert.Equal(keys.Length, keys.Distinct().Count());
    }

    [Fact(Timeout = 60_000)]
    public async Task GridJournal_TakesMoreTrials_SendingOnlyTheNewOnes_AndRefusesFewerThanItBeganWith()
    {
        await using var emulator = await OpenAiEmulator.StartAsync(Fast);
        using var endpoint = Harness.Endpoint(emulator);
        using var dir = new TempDirectory();
        var options = Options(dir) with { Trials = 2 };
        var first = await new ApiProfiler(endpoint, Harness.Cl100k, options).RunAsync(cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(8, first.Records.Count);

        // Noisy answers: the same journal with four trials sends trials 2 and 3 only, and the result holds all four.
        var more = await new ApiProfiler(endpoint, Harness.Cl100k, options with { Trials = 4 }).RunAsync(cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(ProfilingStopReason.Completed, more.StopReason);
        Assert.Equal(16, emulator.ReceivedCount);
        Assert.Equal(8, more.Skipped);
        Assert.Equal(16, more.Records.Count);
        Assert.Equal([0, 1, 2, 3], more.Records.Select(r => r.Trial).Distinct().Order());
        AssertNoRepeats(emulator);

        // Three trials (at least the two the journal began with): nothing sent, the run's plan is its first three trials.
        var three = await new ApiProfiler(endpoint, Harness.Cl100k, options with { Trials = 3 }).RunAsync(cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(16, emulator.ReceivedCount);
        Assert.Equal(12, three.Records.Count);
        Assert.DoesNotContain(three.Records, r => r.Trial == 3);

        // Fewer than it began with would leave recorded trials out of what the journal says it measured.
        var fewer = await Assert.ThrowsAsync<InvalidDataException>(() => new ApiProfiler(endpoint, Harness.Cl100k, options with { Trials = 1 }).RunAsync(cancellationToken: TestContext.Current.CancellationToken));
        Assert.Contains("trials: '2' vs '1' (a grid journal resumes with as many trials or more)", fewer.Message, StringComparison.Ordinal);
        Assert.Equal(16, emulator.ReceivedCount);
    }

    [Fact(Timeout = 60_000)]
    public async Task CancelledRun_ResumesWithoutRepeatingFinishedRequests()
    {
        await using var emulator = await OpenAiEmulator.StartAsync(Fast);
        using var endpoint = Harness.Endpoint(emulator);
        using var dir = new TempDirectory();
        var options = Options(dir);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var progress = new SyncProgress<ApiProfilingProgress>(p =>
        {
            if (p.Finished == 5)
            {
                cts.Cancel(); // Ctrl-C after the fifth journaled request
            }
        });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => new ApiProfiler(endpoint, Harness.Cl100k, options).RunAsync(progress, cts.Token));
        Assert.Equal(5, ApiSampleJournal.Read(options.JournalPath).Count);
        Assert.Equal(5, emulator.ReceivedCount);

        // A crash can tear the last line mid-write; resuming drops it and sends that request again.
        File.AppendAllText(options.JournalPath, "{\"prompt_tokens\":32,\"output_tok");
        var reports = new List<ApiProfilingProgress>();
        var result = await new ApiProfiler(endpoint, Harness.Cl100k, options).RunAsync(new SyncProgress<ApiProfilingProgress>(reports.Add), TestContext.Current.CancellationToken);

        Assert.Equal(ProfilingStopReason.Completed, result.StopReason);
        Assert.Equal(5, result.Skipped);
        Assert.Equal(12, result.Records.Count);
        Assert.Equal(12, result.Records.Select(r => r.Key).Distinct().Count());
        Assert.Equal(12, emulator.ReceivedCount);
        AssertNoRepeats(emulator);
        Assert.Equal(7, reports.Count);
        Assert.Equal(12, reports[^1].Finished);
        Assert.Equal(12, reports[^1].Total);
    }

    [Fact(Timeout = 60_000)]
    public async Task RequestBudget_StopsCleanly_AndALargerBudgetContinues()
    {
        await using var emulator = await OpenAiEmulator.StartAsync(Fast);
        using var endpoint = Harness.Endpoint(emulator);
        using var dir = new TempDirectory();
        var options = Options(dir) with { Budget = new ProfilingBudget { MaxRequests = 5 } };

        var first = await new ApiProfiler(endpoint, Harness.Cl100k, options).RunAsync(cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(ProfilingStopReason.BudgetExhausted, first.StopReason);
        Assert.Equal(5, first.Records.Count);
        Assert.Equal(5, first.Usage.Requests);
        Assert.Equal(5, emulator.ReceivedCount);

        // The budget counts the whole journal: 8 more requests allowed, 7 needed.
        var second = await new ApiProfiler(endpoint, Harness.Cl100k, options with { Budget = new ProfilingBudget { MaxRequests = 13 } })
            .RunAsync(cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(ProfilingStopReason.Completed, second.StopReason);
        Assert.Equal(12, second.Usage.Requests);
        Assert.Equal(12, emulator.ReceivedCount);
        AssertNoRepeats(emulator);
    }

    [Fact(Timeout = 60_000)]
    public async Task TokenAndDollarBudgets_StopBeforeTheCapIsExceeded()
    {
        await using var emulator = await OpenAiEmulator.StartAsync(Fast);
        using var endpoint = Harness.Endpoint(emulator);
        using var dir = new TempDirectory();
        // Plan order is trial, p, o: (16,2)=18, (16,4)=20, (32,2)=34, (32,4)=36 tokens; 18 + 20 + 34 = 72 <= 80 < 108.
        var tokens = await new ApiProfiler(endpoint, Harness.Cl100k, Options(dir) with { Budget = new ProfilingBudget { MaxTokens = 80 } })
            .RunAsync(cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(ProfilingStopReason.BudgetExhausted, tokens.StopReason);
        Assert.Equal(3, tokens.Records.Count);
        Assert.Equal(72, tokens.Usage.Tokens);

        using var dir2 = new TempDirectory();
        // $1000 per million prompt tokens, $2000 per million output tokens: (16,2) costs $0.020, (16,4) $0.024.
        var budget = new ProfilingBudget { MaxDollars = 0.05m, DollarsPerMillionPromptTokens = 1000m, DollarsPerMillionOutputTokens = 2000m };
        var dollars = await new ApiProfiler(endpoint, Harness.Cl100k, Options(dir2) with { Budget = budget })
            .RunAsync(cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(ProfilingStopReason.BudgetExhausted, dollars.StopReason);
        Assert.Equal(2, dollars.Records.Count);
        Assert.Equal(0.044m, dollars.Usage.Dollars);
    }

    [Fact(Timeout = 60_000)]
    public async Task LoadStudyBudget_NeverSendsAPartialBatch()
    {
        await using var emulator = await OpenAiEmulator.StartAsync(Fast);
        using var endpoint = Harness.Endpoint(emulator);
        using var dir = new TempDirectory();
        var options = ApiProfilingOptions.LoadStudy(dir.File("load.jsonl"), 4, promptTokens: 16) with
        {
            OutputTokens = [2, 4],
            Trials = 1,
            Budget = new ProfilingBudget { MaxRequests = 10 },
        };

        var result = await new ApiProfiler(endpoint, Harness.Cl100k, options).RunAsync(cancellationToken: TestContext.Current.CancellationToken);

        // Concurrency 1: 2 requests, concurrency 2: 4 more (6); a batch of 4 would make 10, the next 14 > 10.
        Assert.Equal(ProfilingStopReason.BudgetExhausted, result.StopReason);
        Assert.Equal(10, result.Records.Count);
        Assert.Equal(new[] { 1, 1, 2, 2, 2, 2, 4, 4, 4, 4 }, result.Records.Select(r => r.Concurrency).Order());
    }

    [Fact(Timeout = 60_000)]
    public async Task FailedRequestAnsweredOnResume_IsNoLongerCountedAsFailed()
    {
        await using var emulator = await OpenAiEmulator.StartAsync(Fast);
        emulator.Faults = n => n == 0 ? new EmulatedFault(EmulatedFaultKind.ServerError) : null; // the first request fails for good
        using var endpoint = Harness.Endpoint(emulator);
        using var dir = new TempDirectory();
        var options = Options(dir) with { Trials = 1, Retry = Harness.FastRetry with { MaxAttempts = 1 } };
        var first = await new ApiProfiler(endpoint, Harness.Cl100k, options).RunAsync(cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(1, first.Failed);
        Assert.Single(first.Records, r => r.Status == ApiSampleStatus.Failed);

        // The resumed run sends it again and it is answered: the journal holds its failure and its answer, one request.
        var second = await new ApiProfiler(endpoint, Harness.Cl100k, options).RunAsync(cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(5, second.Records.Count);
        Assert.Equal(4, second.Records.Select(r => r.Key).Distinct().Count());
        var report = DenoisedRuntimeAnalysis.Analyze(second.Records);
        Assert.Equal(0, report.FailedRequests);
        Assert.Equal(4, report.RawVersusDenoised.Count);
    }

    [Fact(Timeout = 60_000)]
    public async Task BudgetRefusingARetry_CountsTheFailureItJournals()
    {
        await using var emulator = await OpenAiEmulator.StartAsync(Fast);
        emulator.Faults = _ => new EmulatedFault(EmulatedFaultKind.ServerError);
        using var endpoint = Harness.Endpoint(emulator);
        using var dir = new TempDirectory();
        var options = Options(dir) with { PromptTokens = [16], Trials = 1, Budget = new ProfilingBudget { MaxRequests = 2 } };

        var result = await new ApiProfiler(endpoint, Harness.Cl100k, options).RunAsync(cancellationToken: TestContext.Current.CancellationToken);

        // Two attempts of the first request, then the budget refuses its third: journaled as failed, and counted so.
        var failed = Assert.Single(result.Records, r => r.Status == ApiSampleStatus.Failed);
        Assert.Equal(2, failed.Attempts.Count);
        Assert.Equal(1, result.Failed);
        Assert.Equal(ProfilingStopReason.BudgetExhausted, result.StopReason);
    }

    [Fact(Timeout = 60_000)]
    public async Task TokenCap_CountsTheTemplateTokensTheServerAdds()
    {
        // A chat route reports 5 template tokens more than each prompt held; once seen, every projection adds them.
        using var dir = new TempDirectory();
        var endpoint = new StubEndpoint((_, r, _) => Task.FromResult(StubEndpoint.Ok(r, extraPrompt: 5)));
        var options = Options(dir) with { PromptTokens = [16], OutputTokens = [2], Trials = 3, Budget = new ProfilingBudget { MaxTokens = 42 } };

        var result = await new ApiProfiler(endpoint, Harness.Cl100k, options).RunAsync(cancellationToken: TestContext.Current.CancellationToken);

        // The first answer is charged 16 + 5 + 2 = 23; a second one would reach 46 (its projection once said 41).
        Assert.Equal(ProfilingStopReason.BudgetExhausted, result.StopReason);
        Assert.Equal(1, endpoint.Calls);
        Assert.Equal(23, result.Usage.Tokens);
    }

    [Fact(Timeout = 60_000)]
    public async Task AttemptsOfACancelledRequest_AreJournaled_AndCountAgainstTheRequestCapOnResume()
    {
        using var dir = new TempDirectory();
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        // Request 0 fails with a 503; Ctrl-C comes with its second attempt, before the retry's wait.
        var endpoint = new StubEndpoint((n, r, _) =>
        {
            if (n < 2)
            {
                if (n == 1)
                {
                    cts.Cancel();
                }

                throw new EndpointException(EndpointFailureKind.ServerError, "overloaded", 503);
            }

            return Task.FromResult(StubEndpoint.Ok(r));
        });
        var options = Options(dir) with { PromptTokens = [16], OutputTokens = [2], Trials = 3, Budget = new ProfilingBudget { MaxRequests = 3 } };

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => new ApiProfiler(endpoint, Harness.Cl100k, options).RunAsync(cancellationToken: cts.Token));
        var cancelled = Assert.Single(ApiSampleJournal.Read(options.JournalPath));
        Assert.Equal((ApiSampleStatus.Failed, 2), (cancelled.Status, cancelled.Attempts.Count));

        var resumed = await new ApiProfiler(endpoint, Harness.Cl100k, options).RunAsync(cancellationToken: TestContext.Current.CancellationToken);

        // Two attempts spent before the cancel, one after: the cap of 3 holds over both runs.
        Assert.Equal(3, endpoint.Calls);
        Assert.Equal(3, resumed.Usage.Requests);
        Assert.Equal(ProfilingStopReason.BudgetExhausted, resumed.StopReason);
    }

    [Fact(Timeout = 60_000)]
    public async Task AnAttemptInFlightWhenTheRunIsCancelled_IsJournaledAsCancelled()
    {
        using var dir = new TempDirectory();
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var endpoint = new StubEndpoint((_, _, ct) =>
        {
            cts.Cancel(); // Ctrl-C while the request is out
            ct.ThrowIfCancellationRequested();
            throw new InvalidOperationException("unreachable");
        });
        var options = Options(dir) with { PromptTokens = [16], OutputTokens = [2], Trials = 1 };

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => new ApiProfiler(endpoint, Harness.Cl100k, options).RunAsync(cancellationToken: cts.Token));

        var record = Assert.Single(ApiSampleJournal.Read(options.JournalPath));
        Assert.Equal(ApiSampleStatus.Failed, record.Status);
        Assert.Equal(EndpointFailureKind.Cancelled, Assert.Single(record.Attempts).Failure);
    }
}
