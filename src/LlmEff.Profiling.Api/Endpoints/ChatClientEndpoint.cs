using Microsoft.Extensions.AI;

namespace LlmEff.Profiling.Api;

/// <summary>
/// Profiles any <see cref="IChatClient"/> (Microsoft.Extensions.AI), so that a provider already wired up in an
/// application can be measured as is. The prompt is one user message; <c>o</c> is sent as
/// <see cref="ChatOptions.MaxOutputTokens"/>, and usage comes from <see cref="ChatResponse.Usage"/> or a streamed
/// <see cref="UsageContent"/>.
/// </summary>
public sealed class ChatClientEndpoint : IProfilingEndpoint
{
    private readonly IChatClient _client;
    private readonly string? _modelId;
    private readonly IReadOnlyDictionary<string, object?>? _additionalProperties;
    private readonly TimeProvider _timeProvider;

    /// <summary>Creates the adapter.</summary>
    /// <param name="client">The chat client; not disposed here.</param>
    /// <param name="modelId">Model id to put in <see cref="ChatOptions.ModelId"/>; null uses the client's default.</param>
    /// <param name="additionalProperties">
    /// Provider-specific request fields added to <see cref="ChatOptions.AdditionalProperties"/>, e.g.
    /// <c>ignore_eos = true</c> for a vLLM-backed client.
    /// </param>
    /// <param name="timeProvider">
    /// Clock that times each answer (runtime, time to first token, gaps between tokens); null uses
    /// <see cref="TimeProvider.System"/>. Tests pass a fake one so that no timing depends on how busy the machine is.
    /// </param>
    public ChatClientEndpoint(IChatClient client, string? modelId = null, IReadOnlyDictionary<string, object?>? additionalProperties = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        _client = client;
        _modelId = modelId;
        _additionalProperties = additionalProperties;
        _timeProvider = timeProvider ?? TimeProvider.System;
    }

    /// <inheritdoc />
    public string Description
    {
        get
        {
            var metadata = _client.GetService<ChatClientMetadata>();
            var model = _modelId ?? metadata?.DefaultModelId ?? "default model";
            return metadata?.ProviderName is { } provider ? $"{model} via {provider} IChatClient" : $"{model} via IChatClient";
        }
    }

    /// <inheritdoc />
    public async Task<EndpointResponse> SendAsync(EndpointRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentOutOfRangeException.ThrowIfLessThan(request.OutputTokens, 1, nameof(request));
        var messages = new[] { new ChatMessage(ChatRole.User, request.Prompt.Text) };
        var options = new ChatOptions { MaxOutputTokens = request.OutputTokens, ModelId = _modelId, Temperature = 0 };
        if (_additionalProperties is not null)
        {
            options.AdditionalProperties = new AdditionalPropertiesDictionary();
            foreach (var (key, value) in _additionalProperties)
            {
                options.AdditionalProperties[key] = value;
            }
        }

        var start = _timeProvider.GetTimestamp();
        try
        {
            if (!request.Stream)
            {
                var response = await _client.GetResponseAsync(messages, options, cancellationToken).ConfigureAwait(false);
                return new EndpointResponse
                {
                    RuntimeSeconds = _timeProvider.GetElapsedTime(start).TotalSeconds,
                    ReportedPromptTokens = ToInt(response.Usage?.InputTokenCount),
                    ReportedOutputTokens = ToInt(response.Usage?.OutputTokenCount),
                    ReportedReasoningTokens = ToInt(response.Usage?.ReasoningTokenCount),
                    FinishReason = response.FinishReason?.Value,
                };
            }

            var tally = new StreamTally();
            await foreach (var update in _client.GetStreamingResponseAsync(messages, options, cancellationToken).ConfigureAwait(false))
            {
                var now = _timeProvider.GetElapsedTime(start).TotalSeconds;
                foreach (var usage in update.Contents.OfType<UsageContent>())
                {
                    tally.Report(null, ToInt(usage.Details.InputTokenCount), ToInt(usage.Details.OutputTokenCount), ToInt(usage.Details.ReasoningTokenCount));
                }

                tally.Report(update.FinishReason?.Value, null, null, null);
                // Reasoning the provider streams (TextReasoningContent) is generated tokens too, but not the visible answer.
                tally.Chunk(
                    now,
                    content: update.Contents.OfType<TextContent>().Any(t => !string.IsNullOrEmpty(t.Text)),
                    reasoning: update.Contents.OfType<TextReasoningContent>().Any(t => !string.IsNullOrEmpty(t.Text)));
            }

            return tally.ToResponse(_timeProvider.GetElapsedTime(start).TotalSeconds);
        }
        catch (HttpRequestException ex) when (ex.StatusCode is { } status)
        {
            throw new EndpointException(EndpointException.Classify((int)status), $"{Description} failed with HTTP {(int)status}: {ex.Message}", (int)status);
        }
        catch (HttpRequestException ex)
        {
            throw new EndpointException(EndpointFailureKind.ConnectionFailed, $"{Description} could not be reached: {ex.Message}");
        }
        catch (IOException ex)
        {
            throw new EndpointException(EndpointFailureKind.ConnectionFailed, $"{Description} dropped the connection: {ex.Message}");
        }
        catch (System.Text.Json.JsonException ex)
        {
            throw new EndpointException(EndpointFailureKind.MalformedResponse, $"{Description} answered malformed JSON: {ex.Message}");
        }
    }

    private static int? ToInt(long? value) => value is null ? null : (int)Math.Min(int.MaxValue, value.Value);
}
