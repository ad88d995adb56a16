using System.Text.Json;

namespace LlmEff.Profiling.Api;

/// <summary>
/// LlmEff's own per-request export (<c>llmeff profile api --export-requests FILE.json</c>,
/// <see cref="LoadStudyExport.WriteRequests"/>): a JSON list of objects keyed by <see cref="LoadStudyExport.RequestColumns"/>,
/// so a run profiled elsewhere, or only exported, fits like any other tool's log.
/// </summary>
internal static class LlmEffExportReader
{
    public static string Read(string text, ImportCollector c)
    {
        using var document = JsonLog.Parse(text, c.SourceName, BenchmarkLogImport.Expected(BenchmarkLogFormat.LlmEff));
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Array
            || root.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.Object)
            || (root.GetArrayLength() > 0 && !root.EnumerateArray().All(IsRequest)))
        {
            throw BenchmarkLogImport.WrongTool(text, c.SourceName, BenchmarkLogFormat.LlmEff);
        }

        foreach (var r in root.EnumerateArray())
        {
            var status = JsonLog.Text(r, "status");
            c.Add(new ImportedRequest
            {
                PromptTokens = JsonLog.Count(r, "prompt_tokens"),
                OutputTokens = JsonLog.Count(r, "output_tokens"),
                RuntimeSeconds = JsonLog.Number(r, "runtime_seconds"),
                TimeToFirstTokenSeconds = JsonLog.Number(r, "time_to_first_token_seconds"),
                ReasoningTokens = JsonLog.Count(r, "reasoning_tokens"),
                RequestedOutputTokens = JsonLog.Count(r, "requested_output_tokens"),
                // The requests in flight when it was sent (itself included), else the level's concurrency.
                Concurrency = JsonLog.Count(r, "in_flight") ?? JsonLog.Count(r, "concurrency"),
                Failure = status switch
                {
                    "succeeded" => null,
                    // The profiler's own check found the answer implausible (see ApiSampleStatus.Suspect); the fit leaves it out too.
                    "suspect" => "status suspect (the profiler's answer check refused it)",
                    _ => $"status {status ?? "missing"}",
                },
            });
        }

        return "llmeff request export (LoadStudyExport.RequestColumns)";
    }

    /// <summary>An object with the export's identifying columns.</summary>
    internal static bool IsRequest(JsonElement e) =>
        e.ValueKind == JsonValueKind.Object && JsonLog.Has(e, "requested_output_tokens") && JsonLog.Has(e, "status") && JsonLog.Has(e, "runtime_seconds");
}
