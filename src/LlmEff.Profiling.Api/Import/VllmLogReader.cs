using System.Globalization;
using System.Text.Json;

namespace LlmEff.Profiling.Api;

/// <summary>
/// vLLM <c>bench serve</c> / <c>benchmark_serving.py</c> result JSON: parallel per-request lists, times in seconds
/// (vllm/benchmarks/serve.py, benchmarks/benchmark_serving.py).
/// </summary>
internal static class VllmLogReader
{
    public static string Read(string text, ImportCollector c)
    {
        var expected = BenchmarkLogImport.Expected(BenchmarkLogFormat.Vllm);
        if (AppendedRuns(text) is not { } runs)
        {
            using var document = JsonLog.Parse(text, c.SourceName, expected);
            return ReadRun(document.RootElement, text, c, expected, previousEnd: null, out _);
        }

        // `vllm bench serve --append-result` appends each run's result as one more line. The runs ran one after another, so
        // each one's send times are moved to start where the previous one ended: the load inside a run stays as it was.
        string? description = null;
        double? end = null;
        foreach (var (line, json) in runs)
        {
            using var document = JsonLog.ParseLine(json, line, c.SourceName, expected);
            description = ReadRun(document.RootElement, json, c, expected, end, out end);
        }

        c.Note(string.Create(CultureInfo.InvariantCulture, $"{runs.Count} runs appended to one file (--append-result), read one after another"));
        return description!;
    }

    /// <summary>The lines of a file holding one result object per line, as <c>--append-result</c> writes it; null when the text is one JSON document.</summary>
    private static List<(int Line, string Json)>? AppendedRuns(string text)
    {
        var lines = text.Split('\n').Select((l, i) => (Line: i + 1, Json: l.Trim().TrimStart('\uFEFF'))).Where(l => l.Json.Length > 0).ToList();
        if (lines.Count < 2 || !lines.All(l => l.Json.StartsWith('{') && l.Json.EndsWith('}')))
        {
            return null;
        }

        try
        {
            using var whole = JsonDocument.Parse(text);
            return null;
        }
        catch (JsonException)
        {
            return lines;
        }
    }

    private static string ReadRun(JsonElement root, string text, ImportCollector c, string expected, double? previousEnd, out double? end)
    {
        if (root.ValueKind != JsonValueKind.Object || !JsonLog.Has(root, "input_lens") || !JsonLog.Has(root, "output_lens"))
        {
            throw BenchmarkLogImport.WrongTool(text, c.SourceName, BenchmarkLogFormat.Vllm);
        }

        var inputs = JsonLog.Array(root, "input_lens", c.SourceName, expected);
        var outputs = JsonLog.Array(root, "output_lens", c.SourceName, expected);
        var n = inputs.GetArrayLength();
        var ttfts = Optional(root, "ttfts", n, c.SourceName);
        var itls = Optional(root, "itls", n, c.SourceName);
        var errors = Optional(root, "errors", n, c.SourceName);
        var latencies = Optional(root, "latencies", n, c.SourceName);
        var starts = Optional(root, "start_times", n, c.SourceName);
        if (outputs.GetArrayLength() != n)
        {
            throw Lengths(c.SourceName, "output_lens", outputs.GetArrayLength(), n);
        }

        if (latencies is null && (ttfts is null || itls is null))
        {
            throw new InvalidDataException($"{c.SourceName}: the vLLM result has no per-request 'latencies', nor 'ttfts' and 'itls' to sum them from; expected {expected}.");
        }

        if (latencies is null)
        {
            c.Note("runtime = ttft + sum of itls (this vLLM version saves no per-request latencies)");
        }

        var sends = Enumerable.Range(0, n).Select(i => starts is { } s ? JsonLog.Number(s[i]) : null).ToArray();
        var shift = previousEnd is { } after && sends.Where(x => x is { } v && double.IsFinite(v)).Select(x => x!.Value).DefaultIfEmpty(double.NaN).Min() is var first && double.IsFinite(first) ? after - first : 0;
        end = previousEnd;
        for (var i = 0; i < n; i++)
        {
            var error = errors is { } e && e[i].ValueKind == JsonValueKind.String ? e[i].GetString() : null;
            var ttft = ttfts is { } t ? JsonLog.Number(t[i]) : null;
            double? runtime = latencies is { } l ? JsonLog.Number(l[i]) : Sum(ttft, itls!.Value[i]);
            var send = sends[i] + shift;
            if (send is { } at && runtime is { } r && double.IsFinite(at + r))
            {
                end = Math.Max(end ?? double.NegativeInfinity, at + r);
            }

            c.Add(new ImportedRequest
            {
                PromptTokens = JsonLog.Count(inputs[i]),
                OutputTokens = JsonLog.Count(outputs[i]),
                RuntimeSeconds = runtime,
                TimeToFirstTokenSeconds = ttft,
                StartSeconds = send,
                Failure = string.IsNullOrEmpty(error) ? null : error,
            });
        }

        var tool = JsonLog.Text(root, "backend") is { } backend ? $", backend {backend}" : string.Empty;
        return latencies is null
            ? $"benchmark_serving.py result (ttfts + itls, no latencies{tool})"
            : $"bench serve result (latencies, start_times{tool})";
    }

    private static JsonElement? Optional(JsonElement root, string name, int n, string sourceName)
    {
        if (JsonLog.Get(root, name) is not { } value)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Array)
        {
            throw new InvalidDataException($"{sourceName}: '{name}' is not a list; expected {BenchmarkLogImport.Expected(BenchmarkLogFormat.Vllm)}.");
        }

        return value.GetArrayLength() == n ? value : throw Lengths(sourceName, name, value.GetArrayLength(), n);
    }

    private static InvalidDataException Lengths(string sourceName, string name, int count, int n)
        => new(string.Create(CultureInfo.InvariantCulture, $"{sourceName}: '{name}' lists {count} requests but 'input_lens' lists {n}; the per-request lists of a vLLM result have one entry per request (is the file edited or truncated?)."));

    private static double? Sum(double? ttft, JsonElement itl)
    {
        if (ttft is not { } total || itl.ValueKind != JsonValueKind.Array)
        {
            return null;
        }

        foreach (var gap in itl.EnumerateArray())
        {
            if (JsonLog.Number(gap) is not { } g)
            {
                return null;
            }

            total += g;
        }

        return total;
    }
}
