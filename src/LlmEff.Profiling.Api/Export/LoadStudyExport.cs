using System.Globalization;
using System.Text;
using System.Text.Json;
using LlmEff.Core.Serialization;

namespace LlmEff.Profiling.Api;

/// <summary>
/// Writes a journal's requests as CSV or JSON (one row or object per request, the columns of
/// <see cref="RequestColumns"/>) and a load study's per-level summary as JSON. The request CSV starts with
/// <c>prompt_tokens,output_tokens,runtime_seconds</c> (server-reported counts) and carries <c>trial</c>,
/// <c>concurrency</c> and <c>source</c>, so answered rows read back as <c>ProfilingSample</c>s.
/// </summary>
public static class LoadStudyExport
{
    /// <summary>The <c>schema</c> value of the summary JSON.</summary>
    public const string SummarySchema = "llmeff.load-study-summary";

    /// <summary>
    /// Columns of the per-request export, in order: fitted counts first (<c>prompt_tokens</c>, <c>output_tokens</c>:
    /// server-reported when given, else requested; output tokens include reasoning), <c>runtime_seconds</c> (empty
    /// for failed requests), then what was asked, the timings (seconds), the status and the load it ran at.
    /// </summary>
    public static IReadOnlyList<string> RequestColumns { get; } =
    [
        "prompt_tokens", "output_tokens", "runtime_seconds", "requested_prompt_tokens", "requested_output_tokens",
        "reasoning_tokens", "time_to_first_token_seconds", "time_to_first_content_token_seconds", "mean_inter_token_seconds",
        "time_per_output_token_seconds", "status", "output_length_mismatch", "finish_reason", "stream", "concurrency",
        "request_rate", "in_flight", "trial", "offset_seconds", "started_utc", "source",
    ];

    /// <summary>Writes every record to <paramref name="path"/>, as CSV or JSON by its extension (<c>.csv</c>, <c>.json</c>).</summary>
    /// <exception cref="ArgumentException">Another extension.</exception>
    public static void WriteRequests(IEnumerable<ApiSampleRecord> records, string path)
    {
        ArgumentNullException.ThrowIfNull(records);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var extension = Path.GetExtension(path).ToLowerInvariant();
        var rows = records.Select(Row).ToArray();
        if (extension == ".csv")
        {
            using var writer = new StreamWriter(path, append: false, new UTF8Encoding(false)) { NewLine = "\n" };
            CsvFormat.WriteRow(writer, RequestColumns);
            foreach (var row in rows)
            {
                CsvFormat.WriteRow(writer, row.Select(Text));
            }
        }
        else if (extension == ".json")
        {
            using var stream = File.Create(path);
            using var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
            json.WriteStartArray();
            foreach (var row in rows)
            {
                json.WriteStartObject();
                for (var i = 0; i < RequestColumns.Count; i++)
                {
                    WriteValue(json, RequestColumns[i], row[i]);
                }

                json.WriteEndObject();
            }

            json.WriteEndArray();
        }
        else
        {
            throw new ArgumentException($"'{path}' must end in .csv or .json (the format is chosen by extension).", nameof(path));
        }
    }

    /// <summary>Writes the per-level summary as JSON: schema, objectives and one object per level.</summary>
    /// <param name="levels">From <see cref="LoadStudyAnalysis.Summarize"/>.</param>
    /// <param name="objectives">The objectives goodput was counted against; null for none.</param>
    /// <param name="path">The file, replaced if present.</param>
    public static void WriteSummary(IReadOnlyList<LoadLevelSummary> levels, ServiceLevelObjectives? objectives, string path)
    {
        ArgumentNullException.ThrowIfNull(levels);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        using var stream = File.Create(path);
        using var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        json.WriteStartObject();
        json.WriteString("schema", SummarySchema);
        json.WriteNumber("schema_version", 1);
        json.WriteStartObject("objectives");
        WriteValue(json, "ttft_seconds", objectives?.TimeToFirstTokenSeconds);
        WriteValue(json, "tpot_seconds", objectives?.TimePerOutputTokenSeconds);
        WriteValue(json, "e2e_seconds", objectives?.EndToEndSeconds);
        json.WriteEndObject();
        json.WriteStartArray("levels");
        foreach (var level in levels)
        {
            json.WriteStartObject();
            json.WriteString("mode", level.Mode == LoadStudyMode.Concurrency ? "concurrency" : "request_rate");
            json.WriteNumber("load", level.Load);
            json.WriteNumber("requests", level.Requests);
            json.WriteNumber("succeeded", level.Succeeded);
            json.WriteNumber("failed", level.Failed);
            json.WriteNumber("suspect", level.Suspect);
            json.WriteNumber("output_length_mismatches", level.OutputLengthMismatches);
            json.WriteNumber("output_tokens", level.OutputTokens);
            json.WriteNumber("reasoning_tokens", level.ReasoningTokens);
            json.WriteNumber("wall_seconds", level.WallSeconds);
            json.WriteNumber("requests_per_second", level.RequestsPerSecond);
            json.WriteNumber("output_tokens_per_second", level.OutputTokensPerSecond);
            Percentiles(json, "ttft", level.TimeToFirstToken);
            Percentiles(json, "ttfc", level.TimeToFirstContentToken);
            Percentiles(json, "itl", level.InterTokenLatency);
            Percentiles(json, "tpot", level.TimePerOutputToken);
            Percentiles(json, "e2e", level.EndToEnd);
            json.WriteNumber("meeting_objectives", level.MeetingObjectives);
            json.WriteNumber("goodput_share", level.GoodputShare);
            json.WriteNumber("goodput_requests_per_second", level.GoodputRequestsPerSecond);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }

    private static void Percentiles(Utf8JsonWriter json, string name, LatencyPercentiles? value)
    {
        if (value is null)
        {
            json.WriteNull(name);
            return;
        }

        json.WriteStartObject(name);
        json.WriteNumber("samples", value.Samples);
        json.WriteNumber("p50_seconds", value.P50Seconds);
        json.WriteNumber("p90_seconds", value.P90Seconds);
        json.WriteNumber("p99_seconds", value.P99Seconds);
        json.WriteEndObject();
    }

    private static object?[] Row(ApiSampleRecord r)
    {
        var gaps = r.InterTokenGapsSeconds;
        return
        [
            r.EffectivePromptTokens, r.EffectiveOutputTokens, r.RuntimeSeconds, r.PromptTokens, r.OutputTokens,
            r.ReportedReasoningTokens, r.TimeToFirstTokenSeconds, r.TimeToFirstContentTokenSeconds, gaps is { Count: > 0 } ? gaps.Average() : null,
            LoadStudyAnalysis.TimePerOutputTokenSeconds(r), r.Status switch { ApiSampleStatus.Succeeded => "succeeded", ApiSampleStatus.Suspect => "suspect", _ => "failed" },
            r.OutputLengthMismatch, r.FinishReason, r.Stream, r.Concurrency,
            r.RequestRate, r.InFlight, r.Trial, r.LoadOffsetSeconds, r.StartedUtc, r.Endpoint,
        ];
    }

    private static string? Text(object? value) => value switch
    {
        null => null,
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        DateTimeOffset t => t.ToString("O", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString(),
    };

    private static void WriteValue(Utf8JsonWriter json, string name, object? value)
    {
        switch (value)
        {
            case null:
                json.WriteNull(name);
                break;
            case double d:
                json.WriteNumber(name, d);
                break;
            case int i:
                json.WriteNumber(name, i);
                break;
            case bool b:
                json.WriteBoolean(name, b);
                break;
            case DateTimeOffset t:
                json.WriteString(name, t);
                break;
            default:
                json.WriteString(name, Text(value));
                break;
        }
    }
}
