using LlmEff.Profiling.Api.Tests.Profiling;
using Microsoft.Extensions.Time.Testing;

namespace LlmEff.Profiling.Api.Tests.Endpoints;

public sealed class ChatClientEndpointTests
{
    [Fact(Timeout = 60_000)]
    public async Task Whole_MapsOptionsAndUsage()
    {
        var client = new FakeChatClient();
        var endpoint = new ChatClientEndpoint(client, "my-model", new Dictionary<string, object?> { ["ignore_eos"] = true });

        var response = await endpoint.SendAsync(new EndpointRequest(Harness.Cl100k.Create(20, 1), 3, Stream: false), TestContext.Current.CancellationToken);

        Assert.Equal(20, response.ReportedPromptTokens);
        Assert.Equal(3, response.ReportedOutputTokens);
        Assert.Equal("length", response.FinishReason);
        // 3 tokens x 5 ms of Task.Delay; timers may fire a little early under load, so 10 ms proves the wait was timed.
        Assert.True(response.RuntimeSeconds >= 0.010, $"runtime {response.RuntimeSeconds}");
        var options = Assert.Single(client.SeenOptions)!;
        Assert.Equal(3, options.MaxOutputTokens);
        Assert.Equal("my-model", options.ModelId);
        Assert.Equal(true, options.AdditionalProperties!["ignore_eos"]);
        Assert.Equal("my-model via fake IChatClient", endpoint.Description);
    }

    [Fact(Timeout = 60_000)]
    public async Task Streaming_TimesFirstTokenAndGaps_SkippingRoleOnlyUpdates()
    {
        var endpoint = new ChatClientEndpoint(new FakeChatClient());

        var response = await endpoint.SendAsync(new EndpointRequest(Harness.Cl100k.Create(12, 2), 5, Stream: true), TestContext.Current.CancellationToken);

        Assert.Equal(5, response.StreamedChunks);
        Assert.Equal(4, response.InterTokenGapsSeconds.Count);
        Assert.All(response.InterTokenGapsSeconds, gap => Assert.True(gap >= 0.004, $"gap {gap}")); // 5 ms token delay
        Assert.True(response.TimeToFirstTokenSeconds >= 0.004);
        Assert.Equal(5, response.ReportedOutputTokens);
        Assert.Equal(12, response.ReportedPromptTokens);
    }

    [Fact(Timeout = 60_000)]
    public async Task Streaming_CountsReasoningAsTokens_AndTimesTheFirstVisibleTokenApart()
    {
        // Tokens 10 ms apart on a fake clock that the endpoint times on too: the timings are exact on any machine.
        var clock = new FakeTimeProvider();
        var endpoint = new ChatClientEndpoint(new FakeChatClient { ReasoningTokens = 3, TokenDelay = TimeSpan.FromMilliseconds(10), Clock = clock }, timeProvider: clock);

        var response = await endpoint.SendAsync(new EndpointRequest(Harness.Cl100k.Create(12, 2), 5, Stream: true), TestContext.Current.CancellationToken);

        Assert.Equal((5, 3), (response.StreamedChunks, response.StreamedReasoningChunks));
        Assert.Equal((5, 3), (response.ReportedOutputTokens, response.ReportedReasoningTokens));
        // Three reasoning tokens come before the first visible one; the role-only first update is no token.
        Assert.Equal(0.010, response.TimeToFirstTokenSeconds!.Value, 9);
        Assert.Equal(0.040, response.TimeToFirstContentTokenSeconds!.Value, 9);
        Assert.Equal(Enumerable.Repeat(0.010, 4), response.InterTokenGapsSeconds!, new Tolerance(1e-9));
        Assert.Equal(0.050, response.RuntimeSeconds, 9);
        Assert.Equal("length", response.FinishReason);
    }

    [Fact(Timeout = 60_000)]
    public async Task Profiler_RetriesRateLimitsFromAChatClient()
    {
        var client = new FakeChatClient { RateLimitedCalls = 2, TokenDelay = TimeSpan.FromMilliseconds(1) };
        using var dir = new TempDirectory();
        var options = new ApiProfilingOptions { JournalPath = dir.File("j.jsonl"), PromptTokens = [8], OutputTokens = [1, 2], Trials = 1, Retry = Harness.FastRetry };

        var result = await new ApiProfiler(new ChatClientEndpoint(client), Harness.Cl100k, options).RunAsync(cancellationToken: TestContext.Current.CancellationToken);

        Assert.All(result.Records, r => Assert.Equal(ApiSampleStatus.Succeeded, r.Status));
        Assert.Equal(new EndpointFailureKind?[] { EndpointFailureKind.RateLimited, EndpointFailureKind.RateLimited, null }, result.Records[0].Attempts.Select(a => a.Failure));
        Assert.Equal(4, client.Calls);
        Assert.Equal("fake-model via fake IChatClient", result.Records[0].Endpoint);
    }
}
