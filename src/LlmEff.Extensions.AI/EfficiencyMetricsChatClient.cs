using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;

namespace LlmEff.Extensions.AI;

/// <summary>
/// A delegating <see cref="IChatClient"/> that times every call and attaches HELM-style <see cref="EfficiencyMetrics"/>
/// (raw, idealized and denoised runtime, idealized cost and energy) to the response's
/// <see cref="ChatResponse.AdditionalProperties"/>, computed from the response's <see cref="UsageDetails"/>, and adds
/// them to running totals (<see cref="Accumulator"/>).
/// </summary>
/// <remarks>
/// Streaming: usage arrives as <see cref="UsageContent"/> (usually at the end), so after the inner stream ends the client
/// yields one more update, with no contents, that carries the metrics; <c>ToChatResponseAsync</c> merges it into the
/// last message's additional properties, where <c>GetEfficiencyMetrics()</c> finds it. The raw runtime is wall-clock time from the call to the end of the stream, so a
/// consumer that is slow to read the stream adds to it. Calls whose inner client throws are counted as failed; a
/// stream abandoned before its end is not recorded.
/// </remarks>
public sealed class EfficiencyMetricsChatClient : DelegatingChatClient
{
    private readonly TimeProvider _clock;

    /// <summary>Wraps <paramref name="innerClient"/>.</summary>
    /// <exception cref="ArgumentException">The options are invalid; see <see cref="EfficiencyMetricsCalculator(EfficiencyMetricsOptions)"/>.</exception>
    public EfficiencyMetricsChatClient(IChatClient innerClient, EfficiencyMetricsOptions options)
        : base(innerClient)
    {
        Calculator = new EfficiencyMetricsCalculator(options);
        Accumulator = options.Accumulator ?? new EfficiencyMetricsAccumulator();
        _clock = options.TimeProvider;
    }

    /// <summary>The validated settings the metrics are computed with.</summary>
    public EfficiencyMetricsCalculator Calculator { get; }

    /// <summary>The running totals this client adds to (shared when one was passed in the options).</summary>
    public EfficiencyMetricsAccumulator Accumulator { get; }

    /// <summary>A snapshot of <see cref="Accumulator"/>'s totals.</summary>
    public EfficiencyMetricsTotals Totals => Accumulator.Snapshot();

    /// <inheritdoc />
    public override async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var start = _clock.GetTimestamp();
        ChatResponse response;
        try
        {
            response = await base.GetResponseAsync(messages, options, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            Accumulator.RecordFailure();
            throw;
        }

        var metrics = Calculator.Compute(_clock.GetElapsedTime(start).TotalSeconds, response.Usage);
        EfficiencyMetricsProperties.Write(response.AdditionalProperties ??= [], metrics);
        Accumulator.Record(metrics);
        return response;
    }

    /// <inheritdoc />
    public override async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var start = _clock.GetTimestamp();
        double? firstUpdateSeconds = null;
        long? promptTokens = null, outputTokens = null;
        ChatResponseUpdate? last = null;

        // Enumerated by hand because C# cannot yield inside a try block that has a catch clause. An inner client that
        // throws before its first update (no streaming support, a bad argument) failed the call too.
        IAsyncEnumerator<ChatResponseUpdate> updates;
        try
        {
            updates = base.GetStreamingResponseAsync(messages, options, cancellationToken).GetAsyncEnumerator(cancellationToken);
        }
        catch
        {
            Accumulator.RecordFailure();
            throw;
        }

        try
        {
            while (true)
            {
                try
                {
                    if (!await updates.MoveNextAsync().ConfigureAwait(false))
                    {
                        break;
                    }
                }
                catch
                {
                    Accumulator.RecordFailure();
                    throw;
                }

                var update = updates.Current;
                firstUpdateSeconds ??= _clock.GetElapsedTime(start).TotalSeconds;
                foreach (var usage in update.Contents.OfType<UsageContent>())
                {
                    promptTokens = Sum(promptTokens, usage.Details.InputTokenCount);
                    outputTokens = Sum(outputTokens, usage.Details.OutputTokenCount);
                }

                last = update;
                yield return update;
            }
        }
        finally
        {
            await updates.DisposeAsync().ConfigureAwait(false);
        }

        var metrics = Calculator.Compute(_clock.GetElapsedTime(start).TotalSeconds, promptTokens, outputTokens) with
        {
            Streamed = true,
            TimeToFirstUpdateSeconds = firstUpdateSeconds,
        };
        Accumulator.Record(metrics);

        // Same response and message ids as the stream, so ToChatResponse merges it into the last message.
        var final = new ChatResponseUpdate
        {
            Role = last?.Role ?? ChatRole.Assistant,
            ResponseId = last?.ResponseId,
            MessageId = last?.MessageId,
            ConversationId = last?.ConversationId,
            ModelId = last?.ModelId,
            CreatedAt = last?.CreatedAt,
            AdditionalProperties = [],
        };
        EfficiencyMetricsProperties.Write(final.AdditionalProperties, metrics);
        yield return final;
    }

    /// <inheritdoc />
    public override object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        return serviceKey is null && serviceType == typeof(EfficiencyMetricsAccumulator)
            ? Accumulator
            : base.GetService(serviceType, serviceKey);
    }

    // Usage may arrive split over several UsageContent items; a count none of them reported stays null.
    private static long? Sum(long? total, long? value) => value is { } v ? (total ?? 0) + v : total;
}
