using System.Text;
using System.Text.Json;

namespace LlmEff.Profiling.Api.Tests.Endpoints;

public sealed class OpenAiPayloadTests
{
    private static readonly OpenAiEndpointOptions Base = new() { BaseAddress = new Uri("http://127.0.0.1:1/v1/"), Model = "m", ApiKeyEnvironmentVariable = null };

    private static JsonElement Body(OpenAiEndpointOptions options, bool stream)
    {
        var request = new EndpointRequest(Harness.Cl100k.Create(5, 1), 7, stream);
        return JsonDocument.Parse(Encoding.UTF8.GetString(OpenAiPayload.BuildBody(options, request))).RootElement;
    }

    [Fact]
    public void Body_AsksForExactlyOTokens_WithTheRequestedExtras()
    {
        var plain = Body(Base, stream: false);
        Assert.Equal(7, plain.GetProperty("max_tokens").GetInt32());
        Assert.Equal(7, plain.GetProperty("min_tokens").GetInt32()); // exact lengths by default; dropped if the server refuses it
        Assert.False(Body(Base with { SendMinTokens = false }, stream: false).TryGetProperty("min_tokens", out _));
        Assert.Equal(JsonValueKind.String, plain.GetProperty("prompt").ValueKind);
        Assert.False(plain.TryGetProperty("ignore_eos", out _)); // hosted APIs reject unknown fields
        Assert.False(plain.TryGetProperty("stream_options", out _));

        var vllm = Body(Base with { SendTokenIds = true, IgnoreEos = true, SendMinTokens = true }, stream: true);
        Assert.Equal(5, vllm.GetProperty("prompt").GetArrayLength());
        Assert.True(vllm.GetProperty("ignore_eos").GetBoolean());
        Assert.Equal(7, vllm.GetProperty("min_tokens").GetInt32());
        Assert.True(vllm.GetProperty("stream_options").GetProperty("include_usage").GetBoolean());

        var chat = Body(Base with { Api = OpenAiApiKind.ChatCompletions }, stream: false);
        Assert.Equal("user", chat.GetProperty("messages")[0].GetProperty("role").GetString());
        Assert.False(chat.TryGetProperty("prompt", out _));
    }

    [Theory]
    [InlineData("{\"choices\":[{\"text\":\"a\",\"finish_reason\":null}]}", OpenAiApiKind.Completions, true)]
    [InlineData("{\"choices\":[{\"text\":\"\",\"finish_reason\":null}]}", OpenAiApiKind.Completions, true)] // a token of partial UTF-8
    [InlineData("{\"choices\":[{\"text\":\"\",\"finish_reason\":\"length\"}]}", OpenAiApiKind.Completions, false)] // empty closing chunk
    [InlineData("{\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":2}}", OpenAiApiKind.Completions, false)]
    [InlineData("{\"choices\":[{\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}", OpenAiApiKind.ChatCompletions, false)]
    [InlineData("{\"choices\":[{\"delta\":{\"content\":\"hi\"},\"finish_reason\":null}]}", OpenAiApiKind.ChatCompletions, true)]
    public void StreamChunks_AreClassified(string data, OpenAiApiKind api, bool isToken)
        => Assert.Equal(isToken, OpenAiPayload.ReadChunk(data, api).IsToken);

    [Theory]
    [InlineData("{\"choices\":[{\"delta\":{\"reasoning_content\":\"Let\"},\"finish_reason\":null}]}", true, false)] // vLLM, DeepSeek
    [InlineData("{\"choices\":[{\"delta\":{\"content\":null,\"reasoning\":\"me\"},\"finish_reason\":null}]}", true, false)] // OpenRouter, newer vLLM
    [InlineData("{\"choices\":[{\"delta\":{\"content\":\"\",\"reasoning_content\":\"x\"},\"finish_reason\":null}]}", true, false)]
    [InlineData("{\"choices\":[{\"delta\":{\"content\":\"Hi\",\"reasoning_content\":null},\"finish_reason\":null}]}", false, true)]
    [InlineData("{\"choices\":[{\"delta\":{\"reasoning_content\":\"\"},\"finish_reason\":\"length\"}]}", false, false)]
    public void ReasoningDeltas_AreTokens_ButNotContent(string data, bool reasoning, bool content)
    {
        var chunk = OpenAiPayload.ReadChunk(data, OpenAiApiKind.ChatCompletions);
        Assert.Equal((reasoning, content, reasoning || content), (chunk.IsReasoning, chunk.IsContent, chunk.IsToken));
    }

    [Fact]
    public void ReasoningTokens_AreReadFromUsage_InsideTheCompletionTokens()
    {
        var (p, o, r, finish) = OpenAiPayload.ReadCompletionWithReasoning(
            "{\"choices\":[{\"message\":{\"content\":\"4\"},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":150,\"completion_tokens_details\":{\"reasoning_tokens\":128}}}");
        Assert.Equal((12, 150, 128, "stop"), (p!.Value, o!.Value, r!.Value, finish));
        var chunk = OpenAiPayload.ReadChunk("{\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":9,\"completion_tokens_details\":{\"reasoning_tokens\":5}}}", OpenAiApiKind.ChatCompletions);
        Assert.Equal((9, 5), (chunk.OutputTokens, chunk.ReasoningTokens));
        Assert.Null(OpenAiPayload.ReadChunk("{\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":9}}", OpenAiApiKind.ChatCompletions).ReasoningTokens);
    }

    [Fact]
    public void HiddenReasoning_IsNoShortStream_ButMissingVisibleTokensAre()
    {
        // o1-style: 4 reasoning tokens reported in usage, never streamed; the 2 visible tokens arrived.
        var key = new ApiRequestKey(5, 6, 0, 1, 0, Stream: true);
        var hidden = new EndpointResponse { RuntimeSeconds = 1, ReportedPromptTokens = 5, ReportedOutputTokens = 6, ReportedReasoningTokens = 4, StreamedChunks = 2, FinishReason = "length" };
        Assert.Null(AnswerCheck.Find(key, hidden));
        Assert.Contains("delivered 1 tokens but usage claims 2", AnswerCheck.Find(key, hidden with { StreamedChunks = 1 }), StringComparison.Ordinal);
        // Streamed reasoning must all arrive.
        Assert.NotNull(AnswerCheck.Find(key, hidden with { StreamedChunks = 3, StreamedReasoningChunks = 1 }));
    }

    [Fact]
    public void UsageAndFinishReason_AreRead()
    {
        var (p, o, finish) = OpenAiPayload.ReadCompletion("{\"choices\":[{\"text\":\"x\",\"finish_reason\":\"length\"}],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":4}}");
        Assert.Equal((12, 4, "length"), (p!.Value, o!.Value, finish));
        Assert.Throws<JsonException>(() => OpenAiPayload.ReadCompletion("{\"error\":{}}"));
    }

    [Fact]
    public void InvalidOptions_AreRefusedWithTheFix()
    {
        Assert.Contains("completions route", Assert.Throws<ArgumentException>(() => new OpenAiCompatibleEndpoint(Base with { Api = OpenAiApiKind.ChatCompletions, SendTokenIds = true })).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => new OpenAiCompatibleEndpoint(Base with { BaseAddress = new Uri("ftp://x/") }));
        Assert.Throws<ArgumentException>(() => new OpenAiCompatibleEndpoint(Base with { Model = " " }));
        Assert.Equal(EndpointFailureKind.RateLimited, EndpointException.Classify(429));
        Assert.Equal(EndpointFailureKind.ServerError, EndpointException.Classify(503));
        Assert.Equal(EndpointFailureKind.ClientError, EndpointException.Classify(404));
    }
}
