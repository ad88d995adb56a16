using LlmEff.Profiling.Api.Tests.Emulator;

namespace LlmEff.Profiling.Api.Tests;

/// <summary>What a run refuses up front or keeps apart: settings a journal must agree with, the request budget, timer limits, prices, early answers in a load study.</summary>
public sealed class RunSettingsAndBudgetTests
{
    private static readonly EmulatedLatency Fast = new() { OverheadSeconds = 0.001, PromptBaseSeconds = 0.001, PromptSecondsPerToken = 0, PerOutputTokenSeconds = 0.0002, NoiseMeanSeconds = 0 };

    // Resuming a journal with --ignore-eos toggled silently mixes answers generated under different rules.
    [Fact(Timeout = 60_000)]
    public async Task Resume_WithIgnoreEosToggled_IsRefused()
    {
        await using var emulator = await OpenAiEmulator.StartAsync(Fast, eosAfterTokens: 3);
        using var dir = new TempDirectory();
        var options = new ApiProfilingOptions
        {
            JournalPath = dir.File("journal.jsonl"),
            PromptTokens = [16],
            OutputTokens = [2, 8],
            Trials = 2,
            Retry = Harness.FastRetry,
            Budget = new ProfilingBudget { MaxRequests = 2 },
        };

        // First run without ignore_eos or min_tokens: o = 8 stops at 3 tokens (early EOS).
        using (var withoutEos = Harness.Endpoint(emulator, o => o with { IgnoreEos = false, SendMinTokens = false }))
        {
            var first = await new ApiProfiler(withoutEos, Harness.Cl100k, options).RunAsync(cancellationToken: TestContext.Current.CancellationToken);
            Assert.Equal(ProfilingStopReason.BudgetExhausted, first.StopReason);
        }

        // Resumed with ignore_eos: another measurement (the model now runs to max_tokens); the journal must refuse it.
        using var withEos = Harness.Endpoint(emulator, o => o with { IgnoreEos = true, SendMinTokens = false });
        await Assert.ThrowsAsync<InvalidDataException>(() => new ApiProfiler(withEos, Harness.Cl100k, options with { Budget = ProfilingBudget.Unlimited })
            .RunAsync(cancellationToken: TestContext.Current.CancellationToken));
    }

    // The request re-sent after a min_tokens refusal is an HTTP request the budget never counts.
    [Fact(Timeout = 60_000)]
    public async Task MinTokensRefusal_ResentRequest_CountsAgainstMaxRequests()
    {
        await using var emulator = await OpenAiEmulator.StartAsync(Fast);
        emulator.RefuseMinTokens = true;
        using var endpoint = Harness.Endpoint(emulator, o => o with { IgnoreEos = false });
        using var dir = new TempDirectory();
        var options = new ApiProfilingOptions
        {
            JournalPath = dir.File("journal.jsonl"),
            PromptTokens = [16],
            OutputTokens = [2, 4],
            Trials = 1,
            Retry = Harness.FastRetry,
            Budget = new ProfilingBudget { MaxRequests = 1 },
        };

        var result = await new ApiProfiler(endpoint, Harness.Cl100k, options).RunAsync(cancellationToken: TestContext.Current.CancellationToken);

        // MaxRequests is "most HTTP attempts"; the server received two.
        Assert.True(emulator.ReceivedCount <= 1, $"MaxRequests = 1, but the server received {emulator.ReceivedCount} requests; the budget counted {result.Usage.Requests}.");
    }

    // A RequestTimeout beyond the timer's range passes Validate and fails mid-run, naming 'delay'.
    [Fact]
    public void RequestTimeout_BeyondTimerRange_IsRefusedUpFront_NamingTheOption()
    {
        using var dir = new TempDirectory();
        var endpoint = new StubEndpoint((_, r, _) => Task.FromResult(StubEndpoint.Ok(r)));
        var options = new ApiProfilingOptions { JournalPath = dir.File("j.jsonl"), PromptTokens = [1], OutputTokens = [1, 2], Trials = 1, RequestTimeout = TimeSpan.FromDays(60) };

        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new ApiProfiler(endpoint, Harness.Cl100k, options));
        Assert.Equal(nameof(ApiProfilingOptions.RequestTimeout), ex.ParamName);
    }

    [Fact]
    public void NegativeOutputPrice_ExceptionNamesOutputPrice()
    {
        using var dir = new TempDirectory();
        var endpoint = new StubEndpoint((_, r, _) => Task.FromResult(StubEndpoint.Ok(r)));
        var options = new ApiProfilingOptions
        {
            JournalPath = dir.File("j.jsonl"),
            Budget = new ProfilingBudget { DollarsPerMillionPromptTokens = 1m, DollarsPerMillionOutputTokens = -2m },
        };

        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new ApiProfiler(endpoint, Harness.Cl100k, options));
        Assert.Equal(nameof(ProfilingBudget.DollarsPerMillionOutputTokens), ex.ParamName);
    }

    // Figure 6's minimum over trials takes a shorter (early-EOS) answer as the runtime of the requested length.
    [Fact]
    public void LoadStudyAnalysis_MinimumOverTrials_IgnoresAnswersOfAnotherLength()
    {
        ApiSampleRecord Sample(int trial, int concurrency, int reported, double runtime) => new()
        {
            PromptTokens = 512,
            OutputTokens = 64,
            Trial = trial,
            Concurrency = concurrency,
            Slot = 0,
            Status = ApiSampleStatus.Succeeded,
            RuntimeSeconds = runtime,
            ReportedPromptTokens = 512,
            ReportedOutputTokens = reported,
            CountMismatch = reported != 64,
            FinishReason = reported == 64 ? "length" : "stop",
        };

        var records = new[]
        {
            Sample(0, 1, 64, 1.00),
            Sample(1, 1, 64, 1.05),
            Sample(2, 1, 8, 0.20), // ended after 8 of 64 tokens: OutputLengthMismatch
            Sample(0, 2, 64, 1.50),
            Sample(1, 2, 64, 1.60),
        };
        Assert.True(records[2].OutputLengthMismatch);

        var points = LoadStudyAnalysis.Analyze(records);
        var alone = Assert.Single(points, p => p.Concurrency == 1);
        Assert.Equal(1.00, alone.MinimumSeconds);
        Assert.Equal(2, alone.Samples);
        Assert.Equal(1.50, points.Single(p => p.Concurrency == 2).SlowdownOfMinimum, 6);
    }
}
