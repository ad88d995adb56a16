using System.Globalization;
using System.Text.Json;

namespace LlmEff.Profiling.Api;

/// <summary>
/// AIPerf <c>profile_export.jsonl</c>: one <c>MetricRecordInfo</c> per line (docs/tutorials/working-with-profile-exports.md,
/// docs/metrics-reference.md); each metric is <c>{"value", "unit"}</c> and times are converted by their unit.
/// </summary>
internal static class AiPerfLogReader
{
    public static string Read(string text, ImportCollector c)
    {
        var expected = BenchmarkLogImport.Expected(BenchmarkLogFormat.AiPerf);
        var lines = text.Split('\n');
        var any = false;
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].Trim().TrimStart('\uFEFF');
            if (line.Length == 0)
            {
                continue;
            }

            if (!any && line[0] != '{')
            {
                throw BenchmarkLogImport.WrongTool(text, c.SourceName, BenchmarkLogFormat.AiPerf);
            }

            using var document = JsonLog.ParseLine(line, i + 1, c.SourceName, expected);
            var r = document.RootElement;
            if (!JsonLog.Has(r, "metadata") || !JsonLog.Has(r, "metrics"))
            {
                throw any
                    ? new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"{c.SourceName}: line {i + 1} is not an AIPerf record (no 'metadata' and 'metrics'); expected {expected}."))
                    : BenchmarkLogImport.WrongTool(text, c.SourceName, BenchmarkLogFormat.AiPerf);
            }

            any = true;
            c.Add(Record(r, c.SourceName, i + 1));
        }

        return "profile_export.jsonl (MetricRecordInfo records)";
    }

    private static ImportedRequest Record(JsonElement r, string sourceName, int line)
    {
        var metadata = JsonLog.Get(r, "metadata") ?? default;
        var metrics = JsonLog.Get(r, "metrics") ?? default;
        string? failure = null, cutShort = null, warmup = null;
        // AIPerf writes its warm-up requests into the same file, tagged by phase; its own exporters keep "profiling" only.
        if (JsonLog.Text(metadata, "benchmark_phase") is { } phase && !phase.Equals("profiling", StringComparison.OrdinalIgnoreCase))
        {
            warmup = $"benchmark_phase '{phase}', not 'profiling'";
        }

        if (JsonLog.True(metadata, "was_cancelled"))
        {
            cutShort = "cancelled by AIPerf (was_cancelled)";
        }
        else if (JsonLog.Get(r, "error") is { ValueKind: JsonValueKind.Object } error)
        {
            var code = JsonLog.Get(error, "code") is { } v ? v.GetRawText() : "?";
            failure = $"{JsonLog.Text(error, "type") ?? "error"} {code}: {JsonLog.Text(error, "message") ?? string.Empty}".Trim();
        }

        // Server-reported usage is what the server processed (chat template included); the client counts re-tokenize the text.
        var prompt = Tokens(metrics, "usage_prompt_tokens") ?? Tokens(metrics, "input_sequence_length");
        var osl = Tokens(metrics, "output_sequence_length");
        var output = Tokens(metrics, "usage_completion_tokens") ?? osl;
        int? requested = Tokens(metrics, "requested_osl");
        if (requested is null && osl is { } o && Value(metrics, "osl_mismatch_diff_pct") is { } pct && 1 + (pct / 100) > 0)
        {
            requested = (int)Math.Round(o / (1 + (pct / 100)));
        }

        return new ImportedRequest
        {
            PromptTokens = prompt,
            OutputTokens = output,
            ReasoningTokens = Tokens(metrics, "usage_reasoning_tokens") ?? Tokens(metrics, "reasoning_token_count"),
            RuntimeSeconds = Seconds(metrics, "request_latency", sourceName, line),
            TimeToFirstTokenSeconds = Seconds(metrics, "time_to_first_token", sourceName, line),
            RequestedOutputTokens = requested,
            StartSeconds = JsonLog.Number(metadata, "request_start_ns") is { } ns ? ns / 1e9 : null,
            Failure = failure,
            CutShort = cutShort,
            Warmup = warmup,
        };
    }

    private static double? Value(JsonElement metrics, string name)
        => JsonLog.Get(metrics, name) is { } m ? (m.ValueKind == JsonValueKind.Object ? JsonLog.Number(m, "value") : JsonLog.Number(m)) : null;

    private static int? Tokens(JsonElement metrics, string name)
        => Value(metrics, name) is { } v && double.IsFinite(v) && v == Math.Floor(v) && v is >= 0 and <= int.MaxValue ? (int)v : null;

    private static double? Seconds(JsonElement metrics, string name, string sourceName, int line)
    {
        if (JsonLog.Get(metrics, name) is not { ValueKind: JsonValueKind.Object } m || JsonLog.Number(m, "value") is not { } value)
        {
            return null;
        }

        var unit = JsonLog.Text(m, "unit") ?? "ms";
        var scale = unit.Trim().ToLowerInvariant() switch
        {
            "ns" => 1e-9,
            "us" or "µs" => 1e-6,
            "ms" => 1e-3,
            "s" or "sec" or "seconds" => 1.0,
            _ => throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"{sourceName}: line {line}: metric '{name}' has unit '{unit}'; expected a time unit (ns, us, ms or sec).")),
        };
        return value * scale;
    }
}
