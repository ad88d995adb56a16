using LlmEff.Profiling.Api.Tests.Profiling;
using Microsoft.Extensions.Time.Testing;

namespace LlmEff.Profiling.Api.Tests.Endpoints;

/// <summary>The stream's timings, read on an injected clock.</summary>
public sealed class StreamTimingTests
{
    [Fact(Timeout = 60_000)]
    public async Task ReasoningStream_TimesFirstTokenFirstContentAndGapsOnTheInjectedClock()
    {
        // Role chunk, 4 reasoning tokens then 2 content tokens 20 ms apart, the first 150 ms after the request; then usage.
        static TimeSpan Ms(double milliseconds) => TimeSpan.FromMilliseconds(milliseconds);
        static string Token(string field, string finish) => $"{{\"choices\":[{{\"index\":0,\"delta\":{{\"{field}\":\"x\"}},\"finish_reason\":{finish}}}]}}";
        var events = new List<(TimeSpan, string)> { (Ms(40), "{\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}") };
        events.Add((Ms(110), Token("reasoning_content", "null")));
        events.AddRange(Enumerable.Range(0, 3).Select(_ => (Ms(20), Token("reasoning_content", "null"))));
        events.Add((Ms(20), Token("content", "null")));
        events.Add((Ms(20), Token("content", "\"length\"")));
        events.Add((Ms(5), "{\"choices\":[],\"usage\":{\"prompt_tokens\":15,\"completion_tokens\":6,\"total_tokens\":21,\"completion_tokens_details\":{\"reasoning_tokens\":4}}}"));
        events.Add((TimeSpan.Zero, "[DONE]"));
        var clock = new FakeTimeProvider();
        using var http = new HttpClient(new ScriptedStreamHandler(clock, events));
        using var endpoint = new OpenAiCompatibleEndpoint(
            new OpenAiEndpointOptions { BaseAddress = new Uri("http://scripted/v1/"), Model = "m", ApiKeyEnvironmentVariable = null, Api = OpenAiApiKind.ChatCompletions, TimeProvider = clock },
            http);

        var response = await endpoint.SendAsync(new EndpointRequest(Harness.Cl100k.Create(10, 1), 6, Stream: true), TestContext.Current.CancellationToken);

        Assert.Equal((6, 4), (response.StreamedChunks, response.StreamedReasoningChunks));
        Assert.Equal((6, 4), (response.ReportedOutputTokens, response.ReportedReasoningTokens));
        Assert.Equal(0.150, response.TimeToFirstTokenSeconds!.Value, 9);
        Assert.Equal(0.230, response.TimeToFirstContentTokenSeconds!.Value, 9); // 4 gaps after the first (reasoning) token
        Assert.Equal(Enumerable.Repeat(0.020, 5), response.InterTokenGapsSeconds!, new Tolerance(1e-9));
        Assert.Equal(0.255, response.RuntimeSeconds, 9);
        Assert.Equal("length", response.FinishReason);
    }
}
