using System.Globalization;
using System.Text.Json;

namespace LlmEff.Profiling.Api;

/// <summary>
/// GuideLLM benchmarks report: <c>benchmarks[].requests.{successful, errored, incomplete}</c> of
/// <c>GenerativeRequestStats</c> (src/guidellm/schemas/request_stats.py; older reports: benchmark/benchmark.py), with
/// <c>request_latency</c> in seconds and <c>time_to_first_token_ms</c> in milliseconds.
/// </summary>
internal static class GuideLlmLogReader
{
    public static string Read(string text, ImportCollector c)
    {
        var expected = BenchmarkLogImport.Expected(BenchmarkLogFormat.GuideLlm);
        using var document = JsonLog.Parse(text, c.SourceName, expected);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object || JsonLog.Get(root, "benchmarks") is not { ValueKind: JsonValueKind.Array } benchmarks)
        {
            throw BenchmarkLogImport.WrongTool(text, c.SourceName, BenchmarkLogFormat.GuideLlm);
        }

        string? type = null;
        var index = 0;
        foreach (var benchmark in benchmarks.EnumerateArray())
        {
            if (JsonLog.Get(benchmark, "requests") is not { ValueKind: JsonValueKind.Object } requests)
            {
                throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"{c.SourceName}: benchmark {index + 1} has no 'requests' object; expected {expected}."));
            }

            var streams = Streams(benchmark);
            foreach (var (status, list) in new[] { ("successful", 0), ("errored", 1), ("incomplete", 2) })
            {
                if (JsonLog.Get(requests, status) is not { ValueKind: JsonValueKind.Array } items)
                {
                    continue;
                }

                foreach (var r in items.EnumerateArray())
                {
                    type ??= JsonLog.Text(r, "type_");
                    c.Add(Request(r, list, streams));
                }
            }

            index++;
        }

        if (index > 1)
        {
            c.Note(string.Create(CultureInfo.InvariantCulture, $"{index} benchmarks (load levels) in one report; samples carry the concurrency they ran at"));
        }

        var version = JsonLog.Get(root, "metadata") is { } metadata ? JsonLog.Text(metadata, "guidellm_version") ?? JsonLog.Text(metadata, "version") : null;
        return $"benchmarks report ({type ?? "no requests"}{(version is null ? string.Empty : ", guidellm " + version)})";
    }

    private static ImportedRequest Request(JsonElement r, int status, int? streams)
    {
        var timings = JsonLog.Get(r, "info") is { } info ? JsonLog.Get(info, "timings") : null;
        var start = JsonLog.Number(r, "request_start_time") ?? JsonLog.Number(r, "start_time") ?? (timings is { } t ? JsonLog.Number(t, "request_start") : null);
        var end = JsonLog.Number(r, "request_end_time") ?? JsonLog.Number(r, "end_time");
        var runtime = JsonLog.Number(r, "request_latency") ?? (start is { } s && end is { } e ? e - s : null);
        var error = JsonLog.Text(r, "error") ?? (JsonLog.Get(r, "info") is { } i ? JsonLog.Text(i, "error") : null);
        return new ImportedRequest
        {
            PromptTokens = JsonLog.Count(r, "prompt_tokens"),
            OutputTokens = JsonLog.Count(r, "output_tokens"),
            RuntimeSeconds = runtime,
            TimeToFirstTokenSeconds = JsonLog.Number(r, "time_to_first_token_ms") is { } ms ? ms / 1000 : null,
            RequestedOutputTokens = JsonLog.Get(r, "request_args") is { } args ? JsonLog.FindCount(args, 0, "max_tokens", "max_completion_tokens", "max_new_tokens") : null,
            StartSeconds = start,
            Concurrency = streams,
            Failure = status == 1 ? $"errored{(string.IsNullOrWhiteSpace(error) ? string.Empty : ": " + error.Trim())}" : null,
            CutShort = status == 2 ? "incomplete (still running when the benchmark ended)" : null,
        };
    }

    /// <summary>The fixed concurrency of a synchronous or concurrent benchmark; null for rate-driven ones.</summary>
    private static int? Streams(JsonElement benchmark)
    {
        var strategy = (JsonLog.Get(benchmark, "config") is { } config ? JsonLog.Get(config, "strategy") : null)
            ?? (JsonLog.Get(benchmark, "args") is { } args ? JsonLog.Get(args, "strategy") : null);
        if (strategy is not { ValueKind: JsonValueKind.Object } s)
        {
            return null;
        }

        return JsonLog.Text(s, "type_") switch
        {
            "synchronous" => 1,
            "concurrent" => JsonLog.Count(s, "streams"),
            _ => null,
        };
    }
}
