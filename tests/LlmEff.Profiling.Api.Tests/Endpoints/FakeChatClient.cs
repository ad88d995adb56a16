using System.Net;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Time.Testing;

namespace LlmEff.Profiling.Api.Tests.Endpoints;

/// <summary>An in-memory IChatClient: answers with <c>MaxOutputTokens</c> tokens, reports usage, and fails the first <see cref="RateLimitedCalls"/> calls with a 429.</summary>
internal sealed class FakeChatClient : IChatClient
{
    private int _calls;

    public int RateLimitedCalls { get; init; }

    public TimeSpan TokenDelay { get; init; } = TimeSpan.FromMilliseconds(5);

    /// <summary>When set, each token's delay moves this clock forward instead of waiting for real.</summary>
    public FakeTimeProvider? Clock { get; init; }

    /// <summary>The first this many tokens are streamed as <see cref="TextReasoningContent"/> and reported as reasoning.</summary>
    public int ReasoningTokens { get; init; }

    public List<ChatOptions?> SeenOptions { get; } = [];

    public int Calls => _calls;

    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var (prompt, o) = Begin(messages, options);
        await WaitAsync(TokenDelay * o, cancellationToken);
        return new ChatResponse(new ChatMessage(ChatRole.Assistant, new string('x', o)))
        {
            Usage = new UsageDetails { InputTokenCount = prompt, OutputTokenCount = o },
            FinishReason = ChatFinishReason.Length,
        };
    }

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var (prompt, o) = Begin(messages, options);
        yield return new ChatResponseUpdate(ChatRole.Assistant, string.Empty); // role-only, no token
        for (var k = 0; k < o; k++)
        {
            await WaitAsync(TokenDelay, cancellationToken);
            AIContent token = k < ReasoningTokens ? new TextReasoningContent("r") : new TextContent("x");
            yield return new ChatResponseUpdate(ChatRole.Assistant, [token]) { FinishReason = k == o - 1 ? ChatFinishReason.Length : null };
        }

        var usage = new UsageDetails { InputTokenCount = prompt, OutputTokenCount = o, ReasoningTokenCount = ReasoningTokens > 0 ? Math.Min(ReasoningTokens, o) : null };
        yield return new ChatResponseUpdate(null, [new UsageContent(usage)]);
    }

    public object? GetService(Type serviceType, object? serviceKey = null)
        => serviceType == typeof(ChatClientMetadata) ? new ChatClientMetadata("fake", null, "fake-model") : null;

    public void Dispose()
    {
    }

    private Task WaitAsync(TimeSpan delay, CancellationToken cancellationToken)
    {
        if (Clock is null)
        {
            return Task.Delay(delay, cancellationToken);
        }

        Clock.Advance(delay);
        return Task.CompletedTask;
    }

    private (int Prompt, int Output) Begin(IEnumerable<ChatMessage> messages, ChatOptions? options)
    {
        lock (SeenOptions)
        {
            SeenOptions.Add(options);
        }

        if (Interlocked.Increment(ref _calls) <= RateLimitedCalls)
        {
            throw new HttpRequestException("Too many requests", null, HttpStatusCode.TooManyRequests);
        }

        var text = string.Concat(messages.Select(m => m.Text));
        return (Harness.Cl100k.CountTokens(text), options!.MaxOutputTokens!.Value);
    }
}
