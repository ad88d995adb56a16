using System.Net.Http.Json;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.Extensions.AI;

namespace LlmEff.Extensions.AI.Tests;

/// <summary>
/// A minimal OpenAI chat-completions <see cref="IChatClient"/> over HTTP (JSON and SSE streaming), enough to drive the
/// API profiler's loopback emulator the way a harness's real client would: usage comes from the server's
/// <c>usage</c> object, in streams only when <see cref="IncludeStreamUsage"/> asks for it.
/// </summary>
internal sealed class OpenAiChatHttpClient(HttpClient http, string model) : IChatClient
{
    public bool IncludeStreamUsage { get; init; } = true;

    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        using var reply = await http.PostAsJsonAsync("chat/completions", Body(messages, options, stream: false), cancellationToken);
        reply.EnsureSuccessStatusCode();
        using var json = await JsonDocument.ParseAsync(await reply.Content.ReadAsStreamAsync(cancellationToken), cancellationToken: cancellationToken);
        var root = json.RootElement;
        var text = root.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString();
        return new ChatResponse(new ChatMessage(ChatRole.Assistant, text))
        {
            ResponseId = root.GetProperty("id").GetString(),
            ModelId = model,
            Usage = ReadUsage(root),
        };
    }

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "chat/completions") { Content = JsonContent.Create(Body(messages, options, stream: true)) };
        using var reply = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        reply.EnsureSuccessStatusCode();
        using var reader = new StreamReader(await reply.Content.ReadAsStreamAsync(cancellationToken));
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (!line.StartsWith("data: ", StringComparison.Ordinal))
            {
                continue;
            }

            var data = line["data: ".Length..];
            if (data == "[DONE]")
            {
                yield break;
            }

            using var chunk = JsonDocument.Parse(data);
            var root = chunk.RootElement;
            var update = new ChatResponseUpdate { Role = ChatRole.Assistant, ResponseId = "stream", MessageId = "stream-message", ModelId = model };
            foreach (var choice in root.GetProperty("choices").EnumerateArray())
            {
                if (choice.GetProperty("delta").TryGetProperty("content", out var content) && content.GetString() is { Length: > 0 } piece)
                {
                    update.Contents.Add(new TextContent(piece));
                }
            }

            if (ReadUsage(root) is { } usage)
            {
                update.Contents.Add(new UsageContent(usage));
            }

            yield return update;
        }
    }

    public object? GetService(Type serviceType, object? serviceKey = null) => serviceType.IsInstanceOfType(this) ? this : null;

    public void Dispose()
    {
    }

    private static UsageDetails? ReadUsage(JsonElement root)
        => root.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object
            ? new UsageDetails
            {
                InputTokenCount = usage.GetProperty("prompt_tokens").GetInt64(),
                OutputTokenCount = usage.GetProperty("completion_tokens").GetInt64(),
            }
            : null;

    private Dictionary<string, object?> Body(IEnumerable<ChatMessage> messages, ChatOptions? options, bool stream)
    {
        var body = new Dictionary<string, object?>
        {
            ["model"] = model,
            ["messages"] = messages.Select(m => new { role = m.Role.Value, content = m.Text }).ToArray(),
            ["max_tokens"] = options?.MaxOutputTokens ?? 16,
            ["stream"] = stream,
        };
        if (stream && IncludeStreamUsage)
        {
            body["stream_options"] = new { include_usage = true };
        }

        return body;
    }
}
