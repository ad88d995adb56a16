using LlmEff.Core;
using LlmEff.Core.Planning;
using LlmEff.Profiling.Api.Tests.Emulator;

namespace LlmEff.Profiling.Api.Tests.Profiling;

/// <summary>An adaptive run: the planner chooses the configurations, the journal keeps every request, a rerun resumes.</summary>
public sealed class AdaptiveProfilingTests
{
    private static readonly EmulatedLatency Model = new() { OverheadSeconds = 0.010, PromptBaseSeconds = 0.005, PromptSecondsPerToken = 0.0001, PerOutputTokenSeconds = 0.002, NoiseMeanSeconds = 0.0005, ZeroNoiseProbability = 0.4 };

    private static ApiProfilingOptions Options(TempDirectory dir, int budget, int trials) => new()
    {
        JournalPath = dir.File("journal.jsonl"),
        PromptTokens = [1, 64, 128, 256, 384, 512, 768, 1024],
        OutputTokens = [1, 8, 32, 64],
        Trials = trials,
        AdaptiveBudget = budget,
        Retry = Harness.FastRetry,
    };

    [Fact(Timeout = 60_000)]
    public async Task OneTrialAQuery_SpendsTheBudgetOnTheRunsQueries_RepeatedAnchorsIncluded()
    {
        using var dir = new TempDirectory();
        var endpoint = new SimulatedEndpoint(Model, seed: 3);
        var options = Options(dir, budget: 16, trials: 1);

        var result = await new ApiProfiler(endpoint, Harness.Cl100k, options).RunAsync(cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(ProfilingStopReason.Completed, result.StopReason);
        Assert.Equal(16, endpoint.Requests);
        Assert.Equal(16, result.Records.Count);
        // Every prompt size is anchored; then the planner measures the two shortest anchors a second time.
        Assert.All(options.PromptTokens, p => Assert.Contains(result.Records, r => r.PromptTokens == p && r.OutputTokens == 1));
        Assert.Equal([(1, 1), (64, 1)], result.Records.Where(r => r.Trial == 1).Select(r => (r.PromptTokens, r.OutputTokens)).Order());

        var assessment = Assert.IsType<PlanAssessment>(result.Assessment);
        Assert.Equal(0.002, assessment.Model.PerOutputTokenSeconds, 0.0002);
        Assert.Equal((8 * 4) - 14, assessment.UnmeasuredConfigurations);
        Assert.NotNull(assessment.EstimatedHeldOutError);
        Assert.True(assessment.TrialNoiseSeconds > 0, "the repeated anchors' noise");
        Assert.Equal(2, assessment.RepeatedConfigurations);

        // The same command again: the planner rebuilds its samples from the journal and asks for nothing new.
        var again = await new ApiProfiler(endpoint, Harness.Cl100k, options).RunAsync(cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(16, endpoint.Requests);
        Assert.Equal(16, again.Records.Count);

        // A larger budget continues the same run: the planner's first 16 queries are the ones already journaled.
        var more = await new ApiProfiler(endpoint, Harness.Cl100k, options with { AdaptiveBudget = 20 }).RunAsync(cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(20, endpoint.Requests);
        Assert.Equal(20, more.Records.Count);
    }

    [Fact(Timeout = 60_000)]
    public async Task SeveralTrials_AQueryIsItsTrials_AndABudgetCapResumesToTheSameRun()
    {
        using var dir = new TempDirectory();
        var whole = Options(dir, budget: 12, trials: 3) with { JournalPath = dir.File("whole.jsonl") };
        var reference = await new ApiProfiler(new SimulatedEndpoint(Model, seed: 5), Harness.Cl100k, whole).RunAsync(cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(36, reference.Records.Count);
        Assert.Equal(12, reference.Records.Select(r => (r.PromptTokens, r.OutputTokens)).Distinct().Count());
        Assert.All(reference.Records.GroupBy(r => (r.PromptTokens, r.OutputTokens)), g => Assert.Equal([0, 1, 2], g.Select(r => r.Trial).Order()));

        // Stopped by a request cap in the middle of a query's trials, then continued: the same configurations, each request once.
        var endpoint = new SimulatedEndpoint(Model, seed: 5);
        var capped = whole with { JournalPath = dir.File("capped.jsonl"), Budget = new ProfilingBudget { MaxRequests = 20 } };
        var first = await new ApiProfiler(endpoint, Harness.Cl100k, capped).RunAsync(cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(ProfilingStopReason.BudgetExhausted, first.StopReason);
        Assert.Equal(20, first.Records.Count);

        var second = await new ApiProfiler(endpoint, Harness.Cl100k, capped with { Budget = ProfilingBudget.Unlimited }).RunAsync(cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(ProfilingStopReason.Completed, second.StopReason);
        Assert.Equal(36, endpoint.Requests);
        Assert.Equal(reference.Records.Select(r => r.Key.ToString()).Order(StringComparer.Ordinal), second.Records.Select(r => r.Key.ToString()).Order(StringComparer.Ordinal));
        Assert.NotNull(second.Assessment);
    }

    [Fact]
    public async Task AQueryWithoutAUsableAnswer_StopsTheRun_AndARerunAsksItAgain()
    {
        using var dir = new TempDirectory();
        var options = Options(dir, budget: 12, trials: 1) with { Retry = Harness.FastRetry with { MaxAttempts = 1 } };

        // The fourth request (the seed's fourth query, p = 1024 at o = 64) is refused for good: the planner cannot go on without it.
        var refusing = new StubEndpoint((n, request, _) => n == 3
            ? throw new EndpointException(EndpointFailureKind.ClientError, "400 bad request", 400)
            : Task.FromResult(StubEndpoint.Ok(request)));
        var first = await new ApiProfiler(refusing, Harness.Cl100k, options).RunAsync(cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(ProfilingStopReason.Unanswered, first.StopReason);
        Assert.Equal(4, refusing.Calls);
        Assert.Equal(1, first.Failed);

        var answering = new StubEndpoint((_, request, _) => Task.FromResult(StubEndpoint.Ok(request)));
        var second = await new ApiProfiler(answering, Harness.Cl100k, options).RunAsync(cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(ProfilingStopReason.Completed, second.StopReason);
        Assert.Equal(12 - 3, answering.Calls);
    }

    [Fact(Timeout = 60_000)]
    public async Task ATarget_StopsTheRunOnceTheNoiseIsReadAndTheEstimateMeetsIt_AndARerunSendsNothing()
    {
        using var dir = new TempDirectory();
        var endpoint = new SimulatedEndpoint(Model, seed: 3);
        var options = Options(dir, budget: 30, trials: 1) with { AdaptiveTargetP90 = 0.5 };

        var result = await new ApiProfiler(endpoint, Harness.Cl100k, options).RunAsync(cancellationToken: TestContext.Current.CancellationToken);

        // Every prompt size anchored (8) and the seed's three sweeps, then the first repeated anchor: the noise is read, the
        // loose target is met, and the next query is not sent.
        Assert.Equal(ProfilingStopReason.TargetReached, result.StopReason);
        Assert.Equal(12, endpoint.Requests);
        Assert.True(result.Assessment!.MeetsTarget(0.5));

        var again = await new ApiProfiler(endpoint, Harness.Cl100k, options).RunAsync(cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(ProfilingStopReason.TargetReached, again.StopReason);
        Assert.Equal(12, endpoint.Requests);

        // Without the target the same journal continues to the budget.
        var rest = await new ApiProfiler(endpoint, Harness.Cl100k, options with { AdaptiveTargetP90 = null }).RunAsync(cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(ProfilingStopReason.Completed, rest.StopReason);
        Assert.Equal(30, endpoint.Requests);
    }

    [Fact(Timeout = 60_000)]
    public async Task ATarget_WithSeveralTrials_ReadsTheNoiseFromTheTrials()
    {
        using var dir = new TempDirectory();
        var endpoint = new SimulatedEndpoint(Model, seed: 4);
        var result = await new ApiProfiler(endpoint, Harness.Cl100k, Options(dir, budget: 30, trials: 2) with { AdaptiveTargetP90 = 0.5 }).RunAsync(cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(ProfilingStopReason.TargetReached, result.StopReason);
        Assert.True(endpoint.Requests < 60, $"{endpoint.Requests} requests");
        Assert.Equal(0, endpoint.Requests % 2); // whole queries: both trials of each
    }

    [Fact]
    public void ATarget_WithoutAnAdaptiveBudgetOrOutOfRange_IsRefusedNamingTheOption()
    {
        using var dir = new TempDirectory();
        var endpoint = new SimulatedEndpoint(Model, seed: 1);
        Assert.Equal("AdaptiveTargetP90", Assert.Throws<ArgumentException>(() => new ApiProfiler(endpoint, Harness.Cl100k, Options(dir, 12, 1) with { AdaptiveBudget = null, AdaptiveTargetP90 = 0.02 })).ParamName);
        Assert.Equal("AdaptiveTargetP90", Assert.Throws<ArgumentOutOfRangeException>(() => new ApiProfiler(endpoint, Harness.Cl100k, Options(dir, 12, 1) with { AdaptiveTargetP90 = 2 })).ParamName);
    }

    [Fact]
    public async Task AJournalOfAGridRunIsNotResumedAdaptively()
    {
        using var dir = new TempDirectory();
        var endpoint = new SimulatedEndpoint(Model, seed: 1);
        var grid = Options(dir, budget: 6, trials: 1) with { AdaptiveBudget = null, PromptTokens = [1, 64], OutputTokens = [1, 8] };
        await new ApiProfiler(endpoint, Harness.Cl100k, grid).RunAsync(cancellationToken: TestContext.Current.CancellationToken);

        var ex = await Assert.ThrowsAnyAsync<Exception>(() => new ApiProfiler(endpoint, Harness.Cl100k, grid with { AdaptiveBudget = 6 }).RunAsync(cancellationToken: TestContext.Current.CancellationToken));
        Assert.Contains("adaptive", ex.Message, StringComparison.Ordinal);

        // An adaptive query is its trials, so an adaptive journal resumes with the same count only (a grid journal takes more).
        var adaptive = Options(dir, budget: 8, trials: 1) with { JournalPath = dir.File("adaptive.jsonl") };
        await new ApiProfiler(endpoint, Harness.Cl100k, adaptive).RunAsync(cancellationToken: TestContext.Current.CancellationToken);
        var trials = await Assert.ThrowsAsync<InvalidDataException>(() => new ApiProfiler(endpoint, Harness.Cl100k, adaptive with { Trials = 2 }).RunAsync(cancellationToken: TestContext.Current.CancellationToken));
        Assert.Contains("trials: '1' vs '2'", trials.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void BadAdaptiveOptions_AreRefusedWithTheOptionNamed()
    {
        using var dir = new TempDirectory();
        var endpoint = new SimulatedEndpoint(Model, seed: 1);
        Assert.Equal("AdaptiveBudget", Assert.Throws<ArgumentOutOfRangeException>(() => new ApiProfiler(endpoint, Harness.Cl100k, Options(dir, 5, 1))).ParamName);
        Assert.Equal("ConcurrencyLevels", Assert.Throws<ArgumentException>(() => new ApiProfiler(endpoint, Harness.Cl100k, Options(dir, 12, 1) with { ConcurrencyLevels = [1, 2] })).ParamName);
        Assert.Equal("PromptTokens", Assert.Throws<ArgumentException>(() => new ApiProfiler(endpoint, Harness.Cl100k, Options(dir, 12, 1) with { PromptTokens = [128] })).ParamName);
    }
}
