using System.Text;
using System.Text.Json.Nodes;
using System.Text.Json;
using LlmEff.Core;
using static LlmEff.Profiling.Api.Tests.Import.BenchmarkLogFixtures;

namespace LlmEff.Profiling.Api.Tests.Import;

public sealed class BenchmarkLogImportTests
{
    public static TheoryData<BenchmarkLogFormat> Formats() => new(Enum.GetValues<BenchmarkLogFormat>());

    private static ImportedBenchmarkLog Import(BenchmarkLogFormat format, string text, BenchmarkImportOptions? options = null)
        => BenchmarkLogImport.Read(new MemoryStream(Encoding.UTF8.GetBytes(text)), format, $"log-{format}", options);

    [Theory]
    [MemberData(nameof(Formats))]
    public void GoodLog_GivesEveryRequest_AndTheFitRecoversG(BenchmarkLogFormat format)
    {
        var grid = Grid();
        var log = Import(format, Write(format, grid));

        Assert.Equal(format, log.Format);
        Assert.Equal(grid.Count, log.TotalRequests);
        Assert.Empty(log.Exclusions);
        Assert.Equal(grid.Count, log.Samples.Count);
        Assert.All(log.Samples, s => Assert.StartsWith(BenchmarkLogImport.FormatName(format) + ":", s.Source, StringComparison.Ordinal));
        var model = RuntimeModel.Fit(log.Samples);
        Assert.Equal(G, model.PerOutputTokenSeconds, 9);
        Assert.Equal(PromptEncoding(512), model.PromptEncodingSeconds(512), 6);

        var first = log.Samples[0];
        Assert.Equal(PromptEncoding(128), first.TimeToFirstTokenSeconds!.Value, 6);
        Assert.Equal(G, first.MeanInterTokenSeconds!.Value, 6);
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public void AutoDetection_NamesTheTool(BenchmarkLogFormat format)
    {
        using var dir = new TempDirectory();
        var path = dir.File("log.json");
        File.WriteAllText(path, Write(format, Grid()));

        Assert.Equal(format, BenchmarkLogImport.Detect(path));
        Assert.Equal(Grid().Count, BenchmarkLogImport.Read(path).Samples.Count);
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public void FailedRequests_AreCountedNotDropped(BenchmarkLogFormat format)
    {
        var requests = WithFailures(Grid());
        var log = Import(format, Write(format, requests));

        Assert.Equal(requests.Count, log.TotalRequests);
        Assert.Equal(2, log.ExcludedCount(BenchmarkExclusionReason.Failed));
        Assert.Equal(requests.Count - 2, log.Samples.Count);
        Assert.Equal(2, log.ExclusionCounts[BenchmarkExclusionReason.Failed]);
        Assert.Equal(log.TotalRequests, log.Samples.Count + log.Exclusions.Count);
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public void TruncatedLog_SaysSo(BenchmarkLogFormat format)
    {
        var text = Write(format, Grid());
        var cut = text[..(text.Length * 2 / 3)];
        var ex = Assert.Throws<InvalidDataException>(() => Import(format, cut));
        Assert.Contains("truncated", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public void WrongToolsLog_NamesWhatWasExpected_AndWhatItIs(BenchmarkLogFormat format)
    {
        var other = format == BenchmarkLogFormat.LlmPerf ? BenchmarkLogFormat.GuideLlm : BenchmarkLogFormat.LlmPerf;
        var ex = Assert.Throws<InvalidDataException>(() => Import(format, Write(other, Grid())));

        Assert.Contains($"is not a {BenchmarkLogImport.FormatName(format)} log", ex.Message, StringComparison.Ordinal);
        Assert.Contains("expected", ex.Message, StringComparison.Ordinal);
        Assert.Contains($"--from {BenchmarkLogImport.FormatName(other)}", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void UnknownJson_ListsTheFormats_AndTheFromArgument()
    {
        using var dir = new TempDirectory();
        var path = dir.File("other.json");
        File.WriteAllText(path, """{"hello": [1, 2, 3]}""");

        var ex = Assert.Throws<InvalidDataException>(() => BenchmarkLogImport.Read(path));
        Assert.Contains("cannot tell which benchmark tool", ex.Message, StringComparison.Ordinal);
        Assert.Contains("--from vllm|aiperf|genai-perf|llmperf|guidellm|llmeff", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void VllmWithoutSaveDetailed_SaysToRerunWithIt()
    {
        using var dir = new TempDirectory();
        var path = dir.File("vllm.json");
        File.WriteAllText(path, """{"backend": "openai", "completed": 10, "duration": 12.5, "mean_ttft_ms": 40}""");

        var ex = Assert.Throws<InvalidDataException>(() => BenchmarkLogImport.Read(path));
        Assert.Contains("--save-detailed", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void OlderVllm_WithoutLatencies_SumsTtftAndItls()
    {
        var log = Import(BenchmarkLogFormat.Vllm, Vllm(Grid(), withLatencies: false));

        Assert.Contains("no latencies", log.FormatVersion, StringComparison.Ordinal);
        Assert.Contains(log.Notes, n => n.Contains("sum of itls", StringComparison.Ordinal));
        Assert.Equal(G, RuntimeModel.Fit(log.Samples).PerOutputTokenSeconds, 9);
    }

    [Theory]
    [InlineData("ns")]
    [InlineData("ms")]
    [InlineData("sec")]
    public void AiPerfTimes_AreConvertedByTheirUnit(string unit)
    {
        var log = Import(BenchmarkLogFormat.AiPerf, AiPerf(Grid(), unit));

        Assert.Equal(Grid()[0].Runtime, log.Samples[0].RuntimeSeconds, 9);
        Assert.Equal(G, RuntimeModel.Fit(log.Samples).PerOutputTokenSeconds, 6);
    }

    [Theory]
    [InlineData(BenchmarkLogFormat.AiPerf)]
    [InlineData(BenchmarkLogFormat.GuideLlm)]
    [InlineData(BenchmarkLogFormat.GenAiPerf)]
    public void MismatchedLength_IsExcluded_OrKeptOnItsReportedLength(BenchmarkLogFormat format)
    {
        var requests = Grid();
        requests[0] = requests[0] with { Requested = requests[0].Output + 10 };
        var text = Write(format, requests);

        var strict = Import(format, text);
        var exclusion = Assert.Single(strict.Exclusions);
        Assert.Equal(BenchmarkExclusionReason.LengthMismatch, exclusion.Reason);
        Assert.Contains("asked for 26 output tokens, got 16", exclusion.Detail, StringComparison.Ordinal);

        var kept = Import(format, text, new BenchmarkImportOptions { FitMismatchedOnReportedLength = true });
        Assert.Empty(kept.Exclusions);
        Assert.Equal(1, kept.KeptMismatchedCount);
        Assert.Equal(requests.Count, kept.Samples.Count);
    }

    [Theory]
    [InlineData(BenchmarkLogFormat.AiPerf)]
    [InlineData(BenchmarkLogFormat.GuideLlm)]
    public void CutShortRequests_AreCounted(BenchmarkLogFormat format)
    {
        var requests = Grid();
        requests[3] = requests[3] with { Incomplete = true };

        var log = Import(format, Write(format, requests));

        Assert.Equal(1, log.ExcludedCount(BenchmarkExclusionReason.CutShort));
        Assert.Equal(requests.Count - 1, log.Samples.Count);
    }

    [Fact]
    public void Concurrency_IsTheRequestsInFlightWhenEachWasSent()
    {
        var grid = Grid().Take(4).ToList();
        // The second request starts while the first runs; the third and fourth after both ended.
        grid[1] = grid[1] with { Start = grid[0].Start + (grid[0].Runtime / 2) };
        var log = Import(BenchmarkLogFormat.Vllm, Vllm(grid, withLatencies: true));

        Assert.Equal([1, 2, 1, 1], log.Samples.Select(s => s.Concurrency ?? 0));
    }

    [Fact]
    public void GenAiPerf_WithoutUsage_NeedsATokenizer()
    {
        var text = GenAiPerf(Grid(), withUsage: false);

        var without = Import(BenchmarkLogFormat.GenAiPerf, text);
        Assert.Empty(without.Samples);
        Assert.Equal(Grid().Count, without.ExcludedCount(BenchmarkExclusionReason.MissingTokenCounts));
        Assert.Contains("tokenizer", without.Exclusions[0].Detail, StringComparison.Ordinal);

        var tokenizer = SyntheticPromptFactory.ForEncoding("cl100k_base").Tokenizer;
        var with = Import(BenchmarkLogFormat.GenAiPerf, text, new BenchmarkImportOptions { Tokenizer = tokenizer, FitMismatchedOnReportedLength = true });
        Assert.Equal(Grid().Count, with.Samples.Count);
        Assert.Equal(tokenizer.CountTokens("Once upon a time"), with.Samples[0].OutputTokens);
        Assert.Equal(tokenizer.CountTokens("Tell me a story about a dog"), with.Samples[0].PromptTokens);
    }

    [Fact]
    public void ParseFormat_TakesTheCliNames_AndListsThemWhenUnknown()
    {
        Assert.Equal(BenchmarkLogFormat.GenAiPerf, BenchmarkLogImport.ParseFormat("genai-perf"));
        Assert.Equal(BenchmarkLogFormat.GenAiPerf, BenchmarkLogImport.ParseFormat("GenAiPerf"));
        Assert.Equal(BenchmarkLogFormat.GuideLlm, BenchmarkLogImport.ParseFormat("guidellm"));
        var ex = Assert.Throws<ArgumentException>(() => BenchmarkLogImport.ParseFormat("sglang"));
        Assert.Contains("vllm|aiperf|genai-perf|llmperf|guidellm", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public void ToolEntryPoints_ReadPathsAndStreams(BenchmarkLogFormat format)
    {
        using var dir = new TempDirectory();
        var path = dir.File("log.json");
        var text = Write(format, Grid());
        File.WriteAllText(path, text);
        Func<string, ImportedBenchmarkLog> fromPath = format switch
        {
            BenchmarkLogFormat.Vllm => p => BenchmarkLogImport.ReadVllm(p),
            BenchmarkLogFormat.AiPerf => p => BenchmarkLogImport.ReadAiPerf(p),
            BenchmarkLogFormat.GenAiPerf => p => BenchmarkLogImport.ReadGenAiPerf(p),
            BenchmarkLogFormat.LlmPerf => p => BenchmarkLogImport.ReadLlmPerf(p),
            BenchmarkLogFormat.LlmEff => p => BenchmarkLogImport.ReadLlmEffExport(p),
            _ => p => BenchmarkLogImport.ReadGuideLlm(p),
        };
        Func<Stream, ImportedBenchmarkLog> fromStream = format switch
        {
            BenchmarkLogFormat.Vllm => s => BenchmarkLogImport.ReadVllm(s, "x"),
            BenchmarkLogFormat.AiPerf => s => BenchmarkLogImport.ReadAiPerf(s, "x"),
            BenchmarkLogFormat.GenAiPerf => s => BenchmarkLogImport.ReadGenAiPerf(s, "x"),
            BenchmarkLogFormat.LlmPerf => s => BenchmarkLogImport.ReadLlmPerf(s, "x"),
            BenchmarkLogFormat.LlmEff => s => BenchmarkLogImport.ReadLlmEffExport(s, "x"),
            _ => s => BenchmarkLogImport.ReadGuideLlm(s, "x"),
        };

        var a = fromPath(path);
        var b = fromStream(new MemoryStream(Encoding.UTF8.GetBytes(text)));

        Assert.Equal("log.json", a.SourceName);
        Assert.Equal("x", b.SourceName);
        Assert.Equal(a.Samples.Select(s => (s.PromptTokens, s.OutputTokens, s.RuntimeSeconds)), b.Samples.Select(s => (s.PromptTokens, s.OutputTokens, s.RuntimeSeconds)));
        Assert.Equal(format, a.Format);
        Assert.False(string.IsNullOrWhiteSpace(a.FormatVersion));
    }

    [Fact]
    public void MissingFile_NamesThePath()
    {
        var ex = Assert.Throws<FileNotFoundException>(() => BenchmarkLogImport.Read("/no/such/log.json"));
        Assert.Contains("/no/such/log.json", ex.Message, StringComparison.Ordinal);
    }

    // GuideLLM writes request_args = str(request.arguments.model_dump()): a Python dict's text, not JSON.
    [Fact]
    public void GuideLlm_RequestArgsAsPythonDictText_StillGiveTheRequestedLength()
    {
        var requests = Grid();
        requests[0] = requests[0] with { Requested = requests[0].Output + 10 };
        var root = JsonNode.Parse(GuideLlm(requests))!;
        foreach (var r in root["benchmarks"]![0]!["requests"]!["successful"]!.AsArray())
        {
            var args = JsonNode.Parse(r!["request_args"]!.GetValue<string>())!;
            var max = args["payload"]!["max_tokens"]!.GetValue<int>();
            r["request_args"] = $"{{'method': 'POST', 'stream': True, 'headers': {{}}, 'params': {{}}, 'body': {{'model': 'm', 'prompt': 'x', 'max_tokens': {max}, 'stop': None, 'ignore_eos': True, 'stream': True}}, 'files': None}}";
        }

        var log = Import(BenchmarkLogFormat.GuideLlm, root.ToJsonString());
        var exclusion = Assert.Single(log.Exclusions);
        Assert.Equal(BenchmarkExclusionReason.LengthMismatch, exclusion.Reason);
    }

    // GenAI-Perf's default (no --streaming): one non-streamed response per request.
    [Fact]
    public void GenAiPerf_OneResponseWithoutStreaming_HasNoTtftNorGap()
    {
        var sent = 1_000_000_000_000L;
        var payload = JsonSerializer.Serialize(new { messages = new[] { new { role = "user", content = "hi" } }, model = "m", max_tokens = 64 });
        var body = "{\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"Once upon a time\"},\"finish_reason\":\"length\"}],\"usage\":{\"prompt_tokens\":128,\"completion_tokens\":64}}";
        var root = new JsonObject
        {
            ["service_kind"] = "openai",
            ["experiments"] = new JsonArray(new JsonObject
            {
                ["experiment"] = new JsonObject { ["mode"] = "concurrency", ["value"] = 1 },
                ["requests"] = new JsonArray(new JsonObject
                {
                    ["timestamp"] = sent,
                    ["request_inputs"] = new JsonObject { ["payload"] = payload },
                    ["response_timestamps"] = new JsonArray(sent + 1_500_000_000L),
                    ["response_outputs"] = new JsonArray(new JsonObject { ["response"] = body }),
                }),
            }),
        };

        var sample = Assert.Single(Import(BenchmarkLogFormat.GenAiPerf, root.ToJsonString()).Samples);
        Assert.Equal(1.5, sample.RuntimeSeconds, 9);
        Assert.Null(sample.TimeToFirstTokenSeconds); // its one response is the request's end, not a first token
        Assert.Null(sample.MeanInterTokenSeconds);
    }

    // vLLM streams reasoning in delta.reasoning_content; the first chunks have no content.
    [Fact]
    public void GenAiPerf_ReasoningChunks_MarkTheFirstToken()
    {
        var payload = JsonSerializer.Serialize(new { messages = new[] { new { role = "user", content = "hi" } }, model = "m", stream = true, max_tokens = 4 });
        var log = OneGenAiPerfRequest(
            payload,
            [100_000_000L, 200_000_000L, 300_000_000L, 400_000_000L, 400_000_001L],
            StreamChunk("{\"reasoning_content\":\"Let\"}"),
            StreamChunk("{\"reasoning_content\":\" me\"}"),
            StreamChunk("{\"content\":\"Hi\"}"),
            StreamChunk("{\"content\":\"!\"}", "length") + "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":4,\"completion_tokens_details\":{\"reasoning_tokens\":2}}}\n\n",
            "data: [DONE]\n\n");

        var sample = Assert.Single(Import(BenchmarkLogFormat.GenAiPerf, log).Samples);
        Assert.Equal(4, sample.OutputTokens);
        Assert.Equal(0.1, sample.TimeToFirstTokenSeconds!.Value, 6); // the first reasoning chunk, not the first visible one
    }

    [Fact]
    public void GenAiPerf_ReasoningChunks_CountWhenTheTokenizerCounts()
    {
        var payload = JsonSerializer.Serialize(new { messages = new[] { new { role = "user", content = "hi" } }, model = "m", stream = true });
        var log = OneGenAiPerfRequest(
            payload,
            [100_000_000L, 300_000_000L, 400_000_000L],
            StreamChunk("{\"reasoning_content\":\"Let me think about the dog\"}"),
            StreamChunk("{\"content\":\"Hi!\"}", "stop"),
            "data: [DONE]\n\n");
        var tokenizer = SyntheticPromptFactory.ForEncoding("cl100k_base").Tokenizer;

        var sample = Assert.Single(Import(BenchmarkLogFormat.GenAiPerf, log, new BenchmarkImportOptions { Tokenizer = tokenizer }).Samples);

        Assert.Equal(tokenizer.CountTokens("Let me think about the dog") + tokenizer.CountTokens("Hi!"), sample.OutputTokens);
    }

    private static string StreamChunk(string delta, string? finish = null)
        => $"data: {{\"choices\":[{{\"index\":0,\"delta\":{delta},\"finish_reason\":{(finish is null ? "null" : $"\"{finish}\"")}}}]}}\n\n";

    // A GenAI-Perf profile export holding one request sent at t = 1000 s, its responses at the given offsets (ns).
    private static string OneGenAiPerfRequest(string payload, long[] responseOffsetsNanoseconds, params string[] responses)
    {
        const long Sent = 1_000_000_000_000L;
        return new JsonObject
        {
            ["experiments"] = new JsonArray(new JsonObject
            {
                ["requests"] = new JsonArray(new JsonObject
                {
                    ["timestamp"] = Sent,
                    ["request_inputs"] = new JsonObject { ["payload"] = payload },
                    ["response_timestamps"] = new JsonArray(responseOffsetsNanoseconds.Select(d => (JsonNode)(Sent + d)).ToArray()),
                    ["response_outputs"] = new JsonArray(responses.Select(r => (JsonNode)new JsonObject { ["response"] = r }).ToArray()),
                }),
            }),
        }.ToJsonString();
    }
}
