using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace LlmEff.Profiling.Api.Tests.Import;

/// <summary>One request a fixture log describes; <see cref="Runtime"/> is its end-to-end seconds.</summary>
internal sealed record FixtureRequest(int Prompt, int Output, double Ttft, double Runtime, double Start)
{
    public string? Error { get; init; }

    public bool Incomplete { get; init; }

    public int? Requested { get; init; }
}

/// <summary>
/// Writes small logs in each tool's documented schema (field names and units as in docs/interop.md), from requests
/// whose runtimes follow t(p, o) = PE(p) + (o − 1)·g, so a test knows the parameters the fit must recover.
/// </summary>
internal static class BenchmarkLogFixtures
{
    public const double G = 0.02;

    public static double PromptEncoding(int p) => 0.05 + (2e-4 * p);

    /// <summary>Three prompt sizes × three output lengths × two trials, sent one after another.</summary>
    public static List<FixtureRequest> Grid()
    {
        var requests = new List<FixtureRequest>();
        var start = 1000.0;
        foreach (var p in new[] { 128, 512, 1024 })
        {
            foreach (var o in new[] { 16, 64, 128 })
            {
                for (var trial = 0; trial < 2; trial++)
                {
                    var runtime = PromptEncoding(p) + ((o - 1) * G);
                    requests.Add(new FixtureRequest(p, o, PromptEncoding(p), runtime, start) { Requested = o });
                    start += runtime + 0.5;
                }
            }
        }

        return requests;
    }

    public static List<FixtureRequest> WithFailures(List<FixtureRequest> good)
    {
        var last = good[^1].Start + good[^1].Runtime + 1;
        return
        [
            .. good,
            new FixtureRequest(512, 0, 0, 0.3, last) { Error = "HTTP 500: Internal Server Error" },
            new FixtureRequest(128, 0, 0, 0.1, last + 1) { Error = "timeout" },
        ];
    }

    public static string Write(BenchmarkLogFormat format, IReadOnlyList<FixtureRequest> requests) => format switch
    {
        BenchmarkLogFormat.Vllm => Vllm(requests, withLatencies: true),
        BenchmarkLogFormat.AiPerf => AiPerf(requests, "ms"),
        BenchmarkLogFormat.GenAiPerf => GenAiPerf(requests, withUsage: true),
        BenchmarkLogFormat.LlmPerf => LlmPerf(requests),
        BenchmarkLogFormat.GuideLlm => GuideLlm(requests),
        BenchmarkLogFormat.LlmEff => LlmEffExport(requests),
        _ => throw new ArgumentOutOfRangeException(nameof(format)),
    };

    /// <summary>LlmEff's own request export, written by the real <see cref="LoadStudyExport.WriteRequests"/> from journal records.</summary>
    public static string LlmEffExport(IReadOnlyList<FixtureRequest> requests)
    {
        var records = requests.Select((r, i) => new ApiSampleRecord
        {
            PromptTokens = r.Prompt,
            OutputTokens = r.Requested ?? r.Output,
            Trial = i,
            Concurrency = 1,
            Stream = true,
            Status = r.Error is null && !r.Incomplete ? ApiSampleStatus.Succeeded : ApiSampleStatus.Failed,
            RuntimeSeconds = r.Error is null && !r.Incomplete ? r.Runtime : null,
            TimeToFirstTokenSeconds = r.Error is null ? r.Ttft : null,
            ReportedPromptTokens = r.Prompt,
            ReportedOutputTokens = r.Error is null ? r.Output : null,
            Issue = r.Error,
        });
        var path = Path.Combine(Path.GetTempPath(), $"llmeff-export-{Guid.NewGuid():N}.json");
        try
        {
            LoadStudyExport.WriteRequests(records, path);
            return File.ReadAllText(path);
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>vLLM bench serve --save-detailed: parallel lists, seconds; failed requests have output length 0 and an error.</summary>
    public static string Vllm(IReadOnlyList<FixtureRequest> requests, bool withLatencies)
    {
        var root = new JsonObject
        {
            ["date"] = "20261205-120000",
            ["backend"] = "openai",
            ["completed"] = requests.Count(r => r.Error is null),
            ["failed"] = requests.Count(r => r.Error is not null),
            ["input_lens"] = Array(requests.Select(r => (JsonNode)r.Prompt)),
            ["output_lens"] = Array(requests.Select(r => (JsonNode)(r.Error is null ? r.Output : 0))),
            ["ttfts"] = Array(requests.Select(r => (JsonNode)(r.Error is null ? r.Ttft : 0.0))),
            ["itls"] = Array(requests.Select(r => (JsonNode)Array(Enumerable.Range(0, r.Error is null ? Math.Max(0, r.Output - 1) : 0).Select(_ => (JsonNode)G)))),
            ["generated_texts"] = Array(requests.Select(r => (JsonNode)(r.Error is null ? "text" : string.Empty))),
            ["errors"] = Array(requests.Select(r => (JsonNode)(r.Error ?? string.Empty))),
        };
        if (withLatencies)
        {
            root["latencies"] = Array(requests.Select(r => (JsonNode)(r.Error is null ? r.Runtime : 0.0)));
            root["start_times"] = Array(requests.Select(r => (JsonNode)r.Start));
        }

        return root.ToJsonString();
    }

    /// <summary>AIPerf profile_export.jsonl: one MetricRecordInfo per line; times in <paramref name="unit"/>.</summary>
    public static string AiPerf(IReadOnlyList<FixtureRequest> requests, string unit)
    {
        var scale = unit switch { "ns" => 1e9, "ms" => 1e3, "sec" => 1.0, _ => throw new ArgumentOutOfRangeException(nameof(unit)) };
        var lines = requests.Select((r, i) =>
        {
            var metadata = new JsonObject
            {
                ["session_num"] = i,
                ["x_request_id"] = $"req-{i}",
                ["turn_index"] = 0,
                ["request_start_ns"] = (long)(r.Start * 1e9),
                ["request_end_ns"] = (long)((r.Start + r.Runtime) * 1e9),
                ["benchmark_phase"] = "profiling",
                ["was_cancelled"] = r.Incomplete,
            };
            JsonNode? error = null;
            JsonObject metrics;
            if (r.Error is not null || r.Incomplete)
            {
                metrics = new JsonObject { ["error_isl"] = Metric(r.Prompt, "tokens") };
                error = new JsonObject { ["code"] = r.Incomplete ? 499 : 500, ["type"] = r.Incomplete ? "RequestCancellationError" : "HTTPError", ["message"] = r.Error ?? "cancelled" };
            }
            else
            {
                metrics = new JsonObject
                {
                    ["input_sequence_length"] = Metric(r.Prompt, "tokens"),
                    ["time_to_first_token"] = Metric(r.Ttft * scale, unit),
                    ["request_latency"] = Metric(r.Runtime * scale, unit),
                    ["output_sequence_length"] = Metric(r.Output, "tokens"),
                    ["inter_token_latency"] = Metric((r.Runtime - r.Ttft) / (r.Output - 1) * scale, unit),
                };
                if (r.Requested is { } requested)
                {
                    metrics["osl_mismatch_diff_pct"] = Metric(100.0 * (r.Output - requested) / requested, "%");
                }
            }

            return new JsonObject { ["metadata"] = metadata, ["metrics"] = metrics, ["error"] = error }.ToJsonString();
        });
        return string.Join('\n', lines) + "\n";
    }

    /// <summary>GenAI-Perf profile_export.json (Perf Analyzer): nanosecond timestamps and raw SSE chunks.</summary>
    public static string GenAiPerf(IReadOnlyList<FixtureRequest> requests, bool withUsage)
    {
        var items = requests.Select(r =>
        {
            var sent = (long)(r.Start * 1e9);
            var payload = JsonSerializer.Serialize(new { messages = new[] { new { role = "user", content = "Tell me a story about a dog" } }, model = "m", stream = true, max_tokens = r.Requested ?? r.Output });
            if (r.Error is not null)
            {
                return new JsonObject
                {
                    ["timestamp"] = sent,
                    ["request_inputs"] = new JsonObject { ["payload"] = payload },
                    ["response_timestamps"] = new JsonArray(),
                    ["response_outputs"] = new JsonArray(),
                };
            }

            var usage = withUsage ? $",\"usage\":{{\"prompt_tokens\":{r.Prompt},\"completion_tokens\":{r.Output}}}" : string.Empty;
            return new JsonObject
            {
                ["timestamp"] = sent,
                ["request_inputs"] = new JsonObject { ["payload"] = payload },
                ["response_timestamps"] = Array(new[] { sent + (long)(r.Ttft * 1e9), sent + (long)(r.Runtime * 1e9), sent + (long)(r.Runtime * 1e9) }.Select(t => (JsonNode)t)),
                ["response_outputs"] = new JsonArray(
                    new JsonObject { ["response"] = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Once\"},\"finish_reason\":null}],\"object\":\"chat.completion.chunk\"}\n\n" },
                    new JsonObject { ["response"] = $"data: {{\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\" upon a time\"}},\"finish_reason\":\"length\"}}],\"object\":\"chat.completion.chunk\"{usage}}}\n\n" },
                    new JsonObject { ["response"] = "data: [DONE]\n\n" }),
            };
        });
        var root = new JsonObject
        {
            ["service_kind"] = "openai",
            ["endpoint"] = "v1/chat/completions",
            ["experiments"] = new JsonArray(new JsonObject
            {
                ["experiment"] = new JsonObject { ["mode"] = "concurrency", ["value"] = 1 },
                ["requests"] = Array(items.Select(i => (JsonNode)i)),
            }),
        };
        return root.ToJsonString();
    }

    /// <summary>llmperf *_individual_responses.json: keys of common_metrics.py, seconds.</summary>
    public static string LlmPerf(IReadOnlyList<FixtureRequest> requests)
        => Array(requests.Select(r => (JsonNode)new JsonObject
        {
            ["error_code"] = r.Error is null ? null : 500,
            ["error_msg"] = r.Error ?? string.Empty,
            ["inter_token_latency_s"] = r.Error is null ? r.Runtime / r.Output : 0,
            ["ttft_s"] = r.Error is null ? r.Ttft : 0,
            ["end_to_end_latency_s"] = r.Error is null ? r.Runtime : 0,
            ["request_output_throughput_token_per_s"] = r.Error is null ? r.Output / r.Runtime : 0,
            ["number_total_tokens"] = r.Prompt + (r.Error is null ? r.Output : 0),
            ["number_output_tokens"] = r.Error is null ? r.Output : 0,
            ["number_input_tokens"] = r.Prompt,
        })).ToJsonString();

    /// <summary>GuideLLM benchmarks.json: requests split by status; request_latency in s, time_to_first_token_ms in ms.</summary>
    public static string GuideLlm(IReadOnlyList<FixtureRequest> requests)
    {
        JsonNode Stats(FixtureRequest r, int i) => new JsonObject
        {
            ["type_"] = "generative_request_stats",
            ["request_id"] = $"r{i}",
            ["request_type"] = "text_completions",
            ["request_args"] = JsonSerializer.Serialize(new { payload = new { max_tokens = r.Requested ?? r.Output, stream = true } }),
            ["output"] = "text",
            ["info"] = new JsonObject { ["error"] = r.Error, ["timings"] = new JsonObject { ["request_start"] = r.Start, ["request_end"] = r.Start + r.Runtime } },
            ["request_start_time"] = r.Start,
            ["request_end_time"] = r.Start + r.Runtime,
            ["request_latency"] = r.Runtime,
            ["prompt_tokens"] = r.Prompt,
            ["output_tokens"] = r.Error is null ? r.Output : null,
            ["time_to_first_token_ms"] = r.Error is null ? r.Ttft * 1000 : null,
            ["inter_token_latency_ms"] = r.Error is null && r.Output > 1 ? 1000 * (r.Runtime - r.Ttft) / (r.Output - 1) : null,
        };

        var indexed = requests.Select((r, i) => (r, i)).ToList();
        var root = new JsonObject
        {
            ["benchmarks"] = new JsonArray(new JsonObject
            {
                ["type_"] = "generative_benchmark",
                ["config"] = new JsonObject { ["strategy"] = new JsonObject { ["type_"] = "synchronous" } },
                ["requests"] = new JsonObject
                {
                    ["successful"] = Array(indexed.Where(x => x.r.Error is null && !x.r.Incomplete).Select(x => Stats(x.r, x.i))),
                    ["errored"] = Array(indexed.Where(x => x.r.Error is not null).Select(x => Stats(x.r, x.i))),
                    ["incomplete"] = Array(indexed.Where(x => x.r.Incomplete).Select(x => Stats(x.r, x.i))),
                },
            }),
        };
        return root.ToJsonString();
    }

    private static JsonObject Metric(double value, string unit) => new() { ["value"] = value, ["unit"] = unit };

    private static JsonArray Array(IEnumerable<JsonNode> nodes) => new(nodes.ToArray());

    public static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
