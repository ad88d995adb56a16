using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Time.Testing;

namespace LlmEff.Extensions.AI.Tests;

/// <summary>
/// A deterministic inner client: answers every call with <see cref="OutputTokens"/> one-word tokens and reports
/// <see cref="PromptTokens"/>/<see cref="OutputTokens"/> as usage (or none when <see cref="ReportUsage"/> is false).
/// </summary>
internal sealed class FakeChatClient : IChatClient
{
    private int _calls;

    public long? PromptTokens { get; init; } = 512;

    public long? OutputTokens { get; init; } = 10;

    public bool ReportUsage { get; init; } = true;

    /// <summary>Per-call usage by 0-based call number; overrides the fixed counts when set.</summary>
    public Func<int, UsageDetails?>? UsageFor { get; init; }

    public TimeSpan Delay { get; init; }

    /// <summary>When set, each <see cref="Delay"/> moves this clock forward instead of waiting for real.</summary>
    public FakeTimeProvider? Clock { get; init; }

    public Exception? Throw { get; init; }

    public int Calls => Volatile.Read(ref _calls);

    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var usage = NextUsage();
        await WaitAsync(Delay, cancellationToken);
        if (Throw is not null)
        {
            throw Throw;
        }

        var text = string.Concat(Enumerable.Repeat("x ", (int)(usage?.OutputTokenCount ?? 3)));
        return new ChatResponse(new ChatMessage(ChatRole.Assistant, text)) { ResponseId = "r1", ModelId = "fake", Usage = usage };
    }

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var usage = NextUsage();
        var tokens = (int)(usage?.OutputTokenCount ?? 3);
        for (var k = 0; k < tokens; k++)
        {
            await WaitAsync(Delay, cancellationToken);
            if (Throw is not null && k == tokens / 2)
            {
                throw Throw;
            }

            yield return new ChatResponseUpdate(ChatRole.Assistant, "x ") { ResponseId = "r1", MessageId = "m1", ModelId = "fake" };
        }

        if (usage is not null)
        {
            yield return new ChatResponseUpdate(ChatRole.Assistant, [new UsageContent(usage)]) { ResponseId = "r1", MessageId = "m1", ModelId = "fake", FinishReason = ChatFinishReason.Length };
        }
    }

    public object? GetService(Type serviceType, object? serviceKey = null) => serviceType.IsInstanceOfType(this) ? this : null;

    public void Dispose()
    {
    }

    // Task.Delay may wake a little early (millisecond timer ticks); this waits at least the full delay by the stopwatch.
    private async Task WaitAsync(TimeSpan delay, CancellationToken cancellationToken)
    {
        if (Clock is not null)
        {
            Clock.Advance(delay);
            return;
        }

        var start = System.Diagnostics.Stopwatch.GetTimestamp();
        while (System.Diagnostics.Stopwatch.GetElapsedTime(start) < delay)
        {
            await Task.Delay(1, cancellationToken);
        }
    }

    private UsageDetails? NextUsage()
    {
        var call = Interlocked.Increment(ref _calls) - 1;
        if (UsageFor is not null)
        {
            return UsageFor(call);
        }

        return ReportUsage ? new UsageDetails { InputTokenCount = PromptTokens, OutputTokenCount = OutputTokens } : null;
    }
}
