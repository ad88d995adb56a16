using System.Text.Json;

namespace LlmEff.Profiling.Api;

/// <summary>Builds OpenAI-compatible request bodies and reads their answers.</summary>
internal static class OpenAiPayload
{
    public static byte[] BuildBody(OpenAiEndpointOptions options, EndpointRequest request) => BuildBody(options, request, options.SendMinTokens);

    /// <param name="options">Route, model and extras.</param>
    /// <param name="request">What to ask for.</param>
    /// <param name="sendMinTokens">Whether to send <c>min_tokens</c> (false once the server refused the field).</param>
    public static byte[] BuildBody(OpenAiEndpointOptions options, EndpointRequest request, bool sendMinTokens)
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

            if (sendMinTokens)
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
        var (p, o, _, finish) = ReadCompletionWithReasoning(body);
        return (p, o, finish);
    }

    /// <summary>Reads usage (reasoning tokens included) and finish reason from a whole (non-streamed) answer.</summary>
    public static (int? PromptTokens, int? OutputTokens, int? ReasoningTokens, string? FinishReason) ReadCompletionWithReasoning(string body)
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

        var (p, o, r) = ReadUsage(root);
        return (p, o, r, finish);
    }

    /// <summary>
    /// Reads <c>usage.prompt_tokens</c>, <c>usage.completion_tokens</c> and
    /// <c>usage.completion_tokens_details.reasoning_tokens</c> when present. OpenAI and vLLM count reasoning tokens
    /// inside <c>completion_tokens</c>, so that count is every generated token, hidden ones included.
    /// </summary>
    public static (int? PromptTokens, int? OutputTokens, int? ReasoningTokens) ReadUsage(JsonElement root)
    {
        if (!root.TryGetProperty("usage", out var usage) || usage.ValueKind != JsonValueKind.Object)
        {
            return (null, null, null);
        }

        int? p = usage.TryGetProperty("prompt_tokens", out var pt) && pt.TryGetInt32(out var pv) ? pv : null;
        int? o = usage.TryGetProperty("completion_tokens", out var ct) && ct.TryGetInt32(out var ov) ? ov : null;
        int? r = usage.TryGetProperty("completion_tokens_details", out var details) && details.ValueKind == JsonValueKind.Object
            && details.TryGetProperty("reasoning_tokens", out var rt) && rt.TryGetInt32(out var rv) ? rv : null;
        return (p, o, r);
    }

    /// <summary>
    /// Classifies one streamed chunk: whether it carries a generated token (role-only and empty closing chunks do
    /// not) and whether that token is visible content or reasoning (<c>delta.reasoning_content</c> as vLLM and
    /// DeepSeek send it, or <c>delta.reasoning</c>), its finish reason, and usage if it is the usage chunk.
    /// </summary>
    public static StreamChunk ReadChunk(string data, OpenAiApiKind api)
    {
        using var document = JsonDocument.Parse(data);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new JsonException("a streamed chunk is not a JSON object");
        }

        var (p, o, r) = ReadUsage(root);
        var isContent = false;
        var isReasoning = false;
        string? finish = null;
        if (root.TryGetProperty("choices", out var choices) && choices.ValueKind == JsonValueKind.Array && choices.GetArrayLength() > 0)
        {
            var choice = choices[0];
            if (choice.TryGetProperty("finish_reason", out var f) && f.ValueKind == JsonValueKind.String)
            {
                finish = f.GetString();
            }

            string? text = null;
            string? reasoning = null;
            var roleOnly = false;
            if (api == OpenAiApiKind.Completions)
            {
                text = choice.TryGetProperty("text", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
            }
            else if (choice.TryGetProperty("delta", out var delta) && delta.ValueKind == JsonValueKind.Object)
            {
                text = delta.TryGetProperty("content", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null;
                roleOnly = delta.TryGetProperty("role", out _);
                reasoning = ReadString(delta, "reasoning_content") ?? ReadString(delta, "reasoning");
            }

            isReasoning = !string.IsNullOrEmpty(reasoning);

            // An empty text still marks a token when the server sends one chunk per token (partial UTF-8 sequences).
            isContent = !string.IsNullOrEmpty(text) || (text is not null && finish is null && !roleOnly && !isReasoning);
        }

        return new StreamChunk(isContent, isReasoning, finish, p, o, r);
    }

    private static string? ReadString(JsonElement element, string name)
        => element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    internal readonly record struct StreamChunk(bool IsContent, bool IsReasoning, string? FinishReason, int? PromptTokens, int? OutputTokens, int? ReasoningTokens)
    {
        /// <summary>Any generated token, visible or reasoning.</summary>
        public bool IsToken => IsContent || IsReasoning;
    }
}
