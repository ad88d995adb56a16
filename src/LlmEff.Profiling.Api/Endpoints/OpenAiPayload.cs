using System.Text.Json;

namespace LlmEff.Profiling.Api;

/// <summary>Builds OpenAI-compatible request bodies and reads their answers.</summary>
internal static class OpenAiPayload
{
    public static byte[] BuildBody(OpenAiEndpointOptions options, EndpointRequest request)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("model", options.Model);
            if (options.Api == OpenAiApiKind.Completions)
            {
                if (options.SendTokenIds)
                {
                    json.WriteStartArray("prompt");
                    foreach (var id in request.Prompt.TokenIds)
                    {
                        json.WriteNumberValue(id);
                    }

                    json.WriteEndArray();
                }
                else
                {
                    json.WriteString("prompt", request.Prompt.Text);
                }
            }
            else
            {
                json.WriteStartArray("messages");
                json.WriteStartObject();
                json.WriteString("role", "user");
                json.WriteString("content", request.Prompt.Text);
                json.WriteEndObject();
                json.WriteEndArray();
            }

            json.WriteNumber("max_tokens", request.OutputTokens);
            json.WriteNumber("temperature", options.Temperature);
            if (options.IgnoreEos)
            {
                json.WriteBoolean("ignore_eos", true);
            }

            if (options.SendMinTokens)
            {
                json.WriteNumber("min_tokens", request.OutputTokens);
            }

            json.WriteBoolean("stream", request.Stream);
            if (request.Stream && options.IncludeStreamUsage)
            {
                json.WriteStartObject("stream_options");
                json.WriteBoolean("include_usage", true);
                json.WriteEndObject();
            }

            json.WriteEndObject();
        }

        return buffer.ToArray();
    }

    /// <summary>Reads usage and finish reason from a whole (non-streamed) answer.</summary>
    public static (int? PromptTokens, int? OutputTokens, string? FinishReason) ReadCompletion(string body)
    {
        using var document = JsonDocument.Parse(body);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("choices", out var choices) || choices.ValueKind != JsonValueKind.Array)
        {
            throw new JsonException("the answer has no 'choices' array");
        }

        string? finish = null;
        if (choices.GetArrayLength() > 0 && choices[0].TryGetProperty("finish_reason", out var f) && f.ValueKind == JsonValueKind.String)
        {
            finish = f.GetString();
        }

        var (p, o) = ReadUsage(root);
        return (p, o, finish);
    }

    /// <summary>Reads <c>usage.prompt_tokens</c> and <c>usage.completion_tokens</c> when present.</summary>
    public static (int? PromptTokens, int? OutputTokens) ReadUsage(JsonElement root)
    {
        if (!root.TryGetProperty("usage", out var usage) || usage.ValueKind != JsonValueKind.Object)
        {
            return (null, null);
        }

        int? p = usage.TryGetProperty("prompt_tokens", out var pt) && pt.TryGetInt32(out var pv) ? pv : null;
        int? o = usage.TryGetProperty("completion_tokens", out var ct) && ct.TryGetInt32(out var ov) ? ov : null;
        return (p, o);
    }

    /// <summary>
    /// Classifies one streamed chunk: whether it carries a generated token (role-only and empty closing chunks do
    /// not), its finish reason, and usage if it is the usage chunk.
    /// </summary>
    public static StreamChunk ReadChunk(string data, OpenAiApiKind api)
    {
        using var document = JsonDocument.Parse(data);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new JsonException("a streamed chunk is not a JSON object");
        }

        var (p, o) = ReadUsage(root);
        var isToken = false;
        string? finish = null;
        if (root.TryGetProperty("choices", out var choices) && choices.ValueKind == JsonValueKind.Array && choices.GetArrayLength() > 0)
        {
            var choice = choices[0];
            if (choice.TryGetProperty("finish_reason", out var f) && f.ValueKind == JsonValueKind.String)
            {
                finish = f.GetString();
            }

            string? text = null;
            var roleOnly = false;
            if (api == OpenAiApiKind.Completions)
            {
                text = choice.TryGetProperty("text", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
            }
            else if (choice.TryGetProperty("delta", out var delta) && delta.ValueKind == JsonValueKind.Object)
            {
                text = delta.TryGetProperty("content", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null;
                roleOnly = delta.TryGetProperty("role", out _);
            }

            // An empty text still marks a token when the server sends one chunk per token (partial UTF-8 sequences).
            isToken = !string.IsNullOrEmpty(text) || (text is not null && finish is null && !roleOnly);
        }

        return new StreamChunk(isToken, finish, p, o);
    }

    internal readonly record struct StreamChunk(bool IsToken, string? FinishReason, int? PromptTokens, int? OutputTokens);
}
