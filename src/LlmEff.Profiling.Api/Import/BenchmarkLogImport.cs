using System.Text;
using System.Text.Json;

namespace LlmEff.Profiling.Api;

/// <summary>
/// Reads the per-request logs of other serving benchmarks (vLLM <c>bench serve</c>, AIPerf, GenAI-Perf, llmperf,
/// GuideLLM), and LlmEff's own request export, into <see cref="LlmEff.Core.ProfilingSample"/>s for <c>RuntimeModel.Fit</c>:
/// prompt and output tokens, end-to-end runtime in seconds, time to first token and mean inter-token gap. Failed, cut
/// short, mismatched and uncounted requests are left out and counted by reason (<see cref="ImportedBenchmarkLog.Exclusions"/>).
/// </summary>
/// <remarks>
/// Each tool's fields, units and exclusion rules, and the versions they were read from, are in docs/interop.md.
/// Samples sent under load carry <see cref="LlmEff.Core.ProfilingSample.Concurrency"/> where the log holds send times
/// (the requests in flight when each was sent) or the tool states a fixed concurrency.
/// </remarks>
public static class BenchmarkLogImport
{
    private static readonly BenchmarkLogFormat[] AllFormats = Enum.GetValues<BenchmarkLogFormat>();

    /// <summary>The name the <c>llmeff</c> tool and error messages use for <paramref name="format"/> (<c>vllm</c>, <c>aiperf</c>, <c>genai-perf</c>, <c>llmperf</c>, <c>guidellm</c>, <c>llmeff</c>).</summary>
    public static string FormatName(BenchmarkLogFormat format) => format switch
    {
        BenchmarkLogFormat.Vllm => "vllm",
        BenchmarkLogFormat.AiPerf => "aiperf",
        BenchmarkLogFormat.GenAiPerf => "genai-perf",
        BenchmarkLogFormat.LlmPerf => "llmperf",
        BenchmarkLogFormat.GuideLlm => "guidellm",
        BenchmarkLogFormat.LlmEff => "llmeff",
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, "Unknown benchmark log format."),
    };

    /// <summary>The format named <paramref name="name"/> (see <see cref="FormatName"/>; case and <c>-</c>/<c>_</c> ignored).</summary>
    /// <exception cref="ArgumentException">No format has that name; the message lists them.</exception>
    public static BenchmarkLogFormat ParseFormat(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var key = name.Trim().Replace("_", "-", StringComparison.Ordinal).ToLowerInvariant();
        foreach (var format in AllFormats)
        {
            if (FormatName(format) == key || FormatName(format).Replace("-", string.Empty, StringComparison.Ordinal) == key)
            {
                return format;
            }
        }

        throw new ArgumentException($"Unknown benchmark log format '{name}'; use one of {Names()}.", nameof(name));
    }

    /// <summary>
    /// Reads the log at <paramref name="path"/>; <paramref name="format"/> null detects the tool from the file's shape.
    /// </summary>
    /// <exception cref="FileNotFoundException">No file there.</exception>
    /// <exception cref="InvalidDataException">
    /// The file is truncated or not JSON, is not the named tool's log, or (autodetection) matches no format or
    /// several; the message names what was expected and the format argument to pass.
    /// </exception>
    public static ImportedBenchmarkLog Read(string path, BenchmarkLogFormat? format = null, BenchmarkImportOptions? options = null)
    {
        var text = ReadText(path);
        var name = Path.GetFileName(path);
        return Parse(text, format ?? Detect(text, name), name, options);
    }

    /// <summary>Reads a log of <paramref name="format"/> from <paramref name="stream"/>; <paramref name="sourceName"/> names it in samples and errors.</summary>
    /// <exception cref="InvalidDataException">The stream is truncated or not JSON, or not the named tool's log.</exception>
    public static ImportedBenchmarkLog Read(Stream stream, BenchmarkLogFormat format, string? sourceName = null, BenchmarkImportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var reader = new StreamReader(stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, leaveOpen: true);
        return Parse(reader.ReadToEnd(), format, sourceName ?? FormatName(format), options);
    }

    /// <summary>Which tool wrote the log at <paramref name="path"/>, from the shape of its JSON.</summary>
    /// <exception cref="InvalidDataException">The file matches no format, or several; the message lists the candidates.</exception>
    public static BenchmarkLogFormat Detect(string path) => Detect(ReadText(path), Path.GetFileName(path));

    /// <summary>Reads a vLLM <c>bench serve</c> result saved with <c>--save-result --save-detailed</c>.</summary>
    public static ImportedBenchmarkLog ReadVllm(string path, BenchmarkImportOptions? options = null) => Read(path, BenchmarkLogFormat.Vllm, options);

    /// <summary>Reads a vLLM <c>bench serve</c> result from <paramref name="stream"/>.</summary>
    public static ImportedBenchmarkLog ReadVllm(Stream stream, string? sourceName = null, BenchmarkImportOptions? options = null) => Read(stream, BenchmarkLogFormat.Vllm, sourceName, options);

    /// <summary>Reads AIPerf's <c>profile_export.jsonl</c>.</summary>
    public static ImportedBenchmarkLog ReadAiPerf(string path, BenchmarkImportOptions? options = null) => Read(path, BenchmarkLogFormat.AiPerf, options);

    /// <summary>Reads AIPerf's <c>profile_export.jsonl</c> from <paramref name="stream"/>.</summary>
    public static ImportedBenchmarkLog ReadAiPerf(Stream stream, string? sourceName = null, BenchmarkImportOptions? options = null) => Read(stream, BenchmarkLogFormat.AiPerf, sourceName, options);

    /// <summary>Reads GenAI-Perf's <c>profile_export.json</c> (Perf Analyzer's raw export).</summary>
    public static ImportedBenchmarkLog ReadGenAiPerf(string path, BenchmarkImportOptions? options = null) => Read(path, BenchmarkLogFormat.GenAiPerf, options);

    /// <summary>Reads GenAI-Perf's <c>profile_export.json</c> from <paramref name="stream"/>.</summary>
    public static ImportedBenchmarkLog ReadGenAiPerf(Stream stream, string? sourceName = null, BenchmarkImportOptions? options = null) => Read(stream, BenchmarkLogFormat.GenAiPerf, sourceName, options);

    /// <summary>Reads llmperf's <c>*_individual_responses.json</c>.</summary>
    public static ImportedBenchmarkLog ReadLlmPerf(string path, BenchmarkImportOptions? options = null) => Read(path, BenchmarkLogFormat.LlmPerf, options);

    /// <summary>Reads llmperf's <c>*_individual_responses.json</c> from <paramref name="stream"/>.</summary>
    public static ImportedBenchmarkLog ReadLlmPerf(Stream stream, string? sourceName = null, BenchmarkImportOptions? options = null) => Read(stream, BenchmarkLogFormat.LlmPerf, sourceName, options);

    /// <summary>Reads GuideLLM's benchmarks report (<c>benchmarks.json</c>).</summary>
    public static ImportedBenchmarkLog ReadGuideLlm(string path, BenchmarkImportOptions? options = null) => Read(path, BenchmarkLogFormat.GuideLlm, options);

    /// <summary>Reads GuideLLM's benchmarks report from <paramref name="stream"/>.</summary>
    public static ImportedBenchmarkLog ReadGuideLlm(Stream stream, string? sourceName = null, BenchmarkImportOptions? options = null) => Read(stream, BenchmarkLogFormat.GuideLlm, sourceName, options);

    /// <summary>Reads LlmEff's own per-request export (<c>llmeff profile api --export-requests FILE.json</c>).</summary>
    public static ImportedBenchmarkLog ReadLlmEffExport(string path, BenchmarkImportOptions? options = null) => Read(path, BenchmarkLogFormat.LlmEff, options);

    /// <summary>Reads LlmEff's own per-request export from <paramref name="stream"/>.</summary>
    public static ImportedBenchmarkLog ReadLlmEffExport(Stream stream, string? sourceName = null, BenchmarkImportOptions? options = null) => Read(stream, BenchmarkLogFormat.LlmEff, sourceName, options);

    /// <summary>What a log of <paramref name="format"/> looks like, for error messages.</summary>
    internal static string Expected(BenchmarkLogFormat format) => format switch
    {
        BenchmarkLogFormat.Vllm => "a vLLM 'bench serve' result saved with --save-result --save-detailed (a JSON object with per-request lists input_lens, output_lens, ttfts, itls, errors)",
        BenchmarkLogFormat.AiPerf => "AIPerf's profile_export.jsonl (one JSON record per line with metadata, metrics and error)",
        BenchmarkLogFormat.GenAiPerf => "GenAI-Perf's profile_export.json (a JSON object with experiments[].requests[] holding timestamp and response_timestamps)",
        BenchmarkLogFormat.LlmPerf => "llmperf's *_individual_responses.json (a JSON list of requests with ttft_s, end_to_end_latency_s, number_input_tokens, number_output_tokens)",
        BenchmarkLogFormat.GuideLlm => "GuideLLM's benchmarks.json (a JSON object with benchmarks[].requests split into successful, errored and incomplete)",
        BenchmarkLogFormat.LlmEff => "llmeff profile api's --export-requests FILE.json (a JSON list of requests with runtime_seconds, requested_output_tokens and status)",
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, "Unknown benchmark log format."),
    };

    internal static string Names() => string.Join("|", AllFormats.Select(FormatName));

    private static string ReadText(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"No benchmark log at '{path}'; check the path.", path);
        }

        return File.ReadAllText(path, Encoding.UTF8);
    }

    private static ImportedBenchmarkLog Parse(string text, BenchmarkLogFormat format, string sourceName, BenchmarkImportOptions? options)
    {
        var collector = new ImportCollector(format, sourceName, options ?? BenchmarkImportOptions.Default);
        var version = format switch
        {
            BenchmarkLogFormat.Vllm => VllmLogReader.Read(text, collector),
            BenchmarkLogFormat.AiPerf => AiPerfLogReader.Read(text, collector),
            BenchmarkLogFormat.GenAiPerf => GenAiPerfLogReader.Read(text, collector),
            BenchmarkLogFormat.LlmPerf => LlmPerfLogReader.Read(text, collector),
            BenchmarkLogFormat.GuideLlm => GuideLlmLogReader.Read(text, collector),
            BenchmarkLogFormat.LlmEff => LlmEffExportReader.Read(text, collector),
            _ => throw new ArgumentOutOfRangeException(nameof(format), format, "Unknown benchmark log format."),
        };
        return collector.Build(version);
    }

    /// <summary>The one format whose shape <paramref name="text"/> has, or an error listing what it could be.</summary>
    internal static BenchmarkLogFormat Detect(string text, string sourceName)
    {
        var candidates = Candidates(text, sourceName, out var hint);
        return candidates.Count switch
        {
            1 => candidates[0],
            0 => throw new InvalidDataException(
                $"{sourceName}: cannot tell which benchmark tool wrote it{(hint is null ? string.Empty : $" ({hint})")}; expected one of: "
                + string.Join("; ", AllFormats.Select(f => $"{FormatName(f)}: {Expected(f)}"))
                + $". Pass the tool with --from {Names()} (BenchmarkLogFormat in the library)."),
            _ => throw new InvalidDataException(
                $"{sourceName} has the shape of several benchmark logs ({string.Join(", ", candidates.Select(FormatName))}); pass the tool with --from {string.Join("|", candidates.Select(FormatName))} (BenchmarkLogFormat in the library)."),
        };
    }

    /// <summary>The formats whose shape the text has; <paramref name="hint"/> says what it looks like when it is none of them.</summary>
    internal static IReadOnlyList<BenchmarkLogFormat> Candidates(string text, string sourceName, out string? hint)
    {
        hint = null;
        var trimmed = text.TrimStart('\uFEFF', ' ', '\t', '\r', '\n');
        if (trimmed.Length == 0)
        {
            throw new InvalidDataException($"{sourceName} is empty; expected a benchmark log ({Names()}).");
        }

        if (trimmed[0] is not ('{' or '['))
        {
            hint = trimmed.StartsWith("prompt_tokens", StringComparison.OrdinalIgnoreCase)
                ? "it is a samples CSV: run 'llmeff fit FILE' without --from"
                : "it is not JSON";
            return [];
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(trimmed);
        }
        catch (JsonException)
        {
            // JSON Lines: one JSON value per line (AIPerf's profile_export.jsonl).
            var first = trimmed.Split('\n', 2)[0];
            if (trimmed.Contains('\n', StringComparison.Ordinal) && TryParse(first) is { } line)
            {
                using (line)
                {
                    return Shape(line.RootElement, out hint);
                }
            }

            using (JsonLog.Parse(trimmed, sourceName, $"a benchmark log ({Names()})"))
            {
                return [];
            }
        }

        using (document)
        {
            return Shape(document.RootElement, out hint);
        }
    }

    private static JsonDocument? TryParse(string text)
    {
        try
        {
            return JsonDocument.Parse(text);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static List<BenchmarkLogFormat> Shape(JsonElement root, out string? hint)
    {
        hint = null;
        var found = new List<BenchmarkLogFormat>();
        if (root.ValueKind == JsonValueKind.Array)
        {
            var first = root.EnumerateArray().FirstOrDefault(e => e.ValueKind == JsonValueKind.Object);
            if (first.ValueKind == JsonValueKind.Object && (JsonLog.Has(first, "end_to_end_latency_s") || JsonLog.Has(first, "ttft_s") || JsonLog.Has(first, "number_output_tokens")))
            {
                found.Add(BenchmarkLogFormat.LlmPerf);
            }
            else if (LlmEffExportReader.IsRequest(first))
            {
                found.Add(BenchmarkLogFormat.LlmEff);
            }
            else
            {
                hint = root.GetArrayLength() == 0 ? "it is an empty JSON list" : "a JSON list, but not of llmperf or llmeff requests";
            }

            return found;
        }

        if (root.ValueKind != JsonValueKind.Object)
        {
            hint = "its JSON is neither an object nor a list";
            return found;
        }

        if (JsonLog.Has(root, "metadata") && JsonLog.Has(root, "metrics"))
        {
            found.Add(BenchmarkLogFormat.AiPerf);
        }

        if (JsonLog.Has(root, "experiments"))
        {
            found.Add(BenchmarkLogFormat.GenAiPerf);
        }

        if (JsonLog.Has(root, "benchmarks"))
        {
            found.Add(BenchmarkLogFormat.GuideLlm);
        }

        if (JsonLog.Has(root, "input_lens") || JsonLog.Has(root, "output_lens"))
        {
            found.Add(BenchmarkLogFormat.Vllm);
        }

        if (found.Count == 0)
        {
            hint = ForeignHint(root);
        }

        return found;
    }

    /// <summary>What a JSON object that is no supported log most likely is, so the error can name the right file.</summary>
    internal static string? ForeignHint(JsonElement root)
    {
        if (JsonLog.Has(root, "results") && (JsonLog.Has(root, "mean_input_tokens") || JsonLog.Has(root, "num_concurrent_requests")))
        {
            return "it is llmperf's summary; pass the *_individual_responses.json beside it";
        }

        if (JsonLog.Has(root, "completed") && JsonLog.Has(root, "duration"))
        {
            return "it is a vLLM 'bench serve' result without per-request data; rerun with --save-result --save-detailed";
        }

        if (JsonLog.Has(root, "schema_version") && JsonLog.Has(root, "per_output_token_seconds"))
        {
            return "it is an LlmEff runtime model, not a benchmark log";
        }

        return null;
    }

    /// <summary>The error for a file that is not <paramref name="expected"/>'s log, naming the tool it seems to be from.</summary>
    internal static InvalidDataException WrongTool(string text, string sourceName, BenchmarkLogFormat expected)
    {
        string? seems;
        try
        {
            var candidates = Candidates(text, sourceName, out var hint);
            seems = candidates.Count > 0
                ? $"it looks like a {string.Join(" or ", candidates.Select(FormatName))} log (pass --from {FormatName(candidates[0])})"
                : hint;
        }
        catch (InvalidDataException)
        {
            seems = null;
        }

        return new InvalidDataException($"{sourceName} is not a {FormatName(expected)} log: expected {Expected(expected)}{(seems is null ? string.Empty : $"; {seems}")}.");
    }
}
