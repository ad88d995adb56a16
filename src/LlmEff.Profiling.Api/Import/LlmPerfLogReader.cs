using System.Globalization;
using System.Text.Json;

namespace LlmEff.Profiling.Api;

/// <summary>
/// llmperf <c>*_individual_responses.json</c>: a list of dicts keyed by src/llmperf/common_metrics.py, times in
/// seconds, output tokens counted by re-tokenizing the answer (token_benchmark_ray.py).
/// </summary>
internal static class LlmPerfLogReader
{
    public static string Read(string text, ImportCollector c)
    {
        using var document = JsonLog.Parse(text, c.SourceName, BenchmarkLogImport.Expected(BenchmarkLogFormat.LlmPerf));
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Array
            || root.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.Object)
            || (root.GetArrayLength() > 0 && !root.EnumerateArray().Any(e => JsonLog.Has(e, "end_to_end_latency_s"))))
        {
            throw BenchmarkLogImport.WrongTool(text, c.SourceName, BenchmarkLogFormat.LlmPerf);
        }

        foreach (var r in root.EnumerateArray())
        {
            string? failure = null;
            if (JsonLog.Get(r, "error_code") is { } code)
            {
                var message = JsonLog.Text(r, "error_msg");
                failure = string.Create(CultureInfo.InvariantCulture, $"error_code {code.GetRawText()}{(string.IsNullOrWhiteSpace(message) ? string.Empty : ": " + message.Trim())}");
            }

            c.Add(new ImportedRequest
            {
                PromptTokens = JsonLog.Count(r, "number_input_tokens"),
                OutputTokens = JsonLog.Count(r, "number_output_tokens"),
                RuntimeSeconds = JsonLog.Number(r, "end_to_end_latency_s"),
                TimeToFirstTokenSeconds = JsonLog.Number(r, "ttft_s"),
                Failure = failure,
            });
        }

        return "individual_responses (common_metrics keys)";
    }
}
