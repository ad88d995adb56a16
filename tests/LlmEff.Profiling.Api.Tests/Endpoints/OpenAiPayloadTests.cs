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
