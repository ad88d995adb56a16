using System.Text;
using System.Text.Json;

namespace LlmEff.Profiling.Api;

/// <summary>
/// The run's journal: a JSON-lines file with a header line, then one <see cref="ApiSampleRecord"/> per finished
/// request, each flushed as it arrives. A crash can at worst tear the last line, which reopening drops (that request
/// is then simply sent again); a resumed run reads the journal and skips every request that already succeeded.
/// </summary>
public sealed class ApiSampleJournal : IDisposable
{
    /// <summary>The <c>schema</c> value of the header line.</summary>
    public const string Schema = "llmeff.api-journal";

    // How every header line begins (the schema is its first property).
    private const string HeaderOpening = "{\"schema\":\"" + Schema + "\"";

    /// <summary>The <c>schema_version</c> this version writes and reads.</summary>
    public const int SchemaVersion = 1;

    // The longest time a record may claim, as RuntimeModelPhysics allows a sample: anything longer is another unit.
    private const double MaximumSeconds = 1e9;

    private readonly StreamWriter _writer;
    private readonly object _gate = new();

    private ApiSampleJournal(StreamWriter writer, string path)
    {
        _writer = writer;
        Path = path;
    }

    /// <summary>The journal file.</summary>
    public string Path { get; }

    /// <summary>Opens <paramref name="path"/> for appending, creating it with a header, or dropping a torn last line of an existing journal.</summary>
    /// <exception cref="InvalidDataException">The file exists but is not a journal of this schema version.</exception>
    public static ApiSampleJournal OpenAppend(string path) => OpenAppend(path, null);

    /// <summary>
    /// Opens <paramref name="path"/> for appending: a new journal starts with <paramref name="header"/>; an
    /// existing one must describe the same run (its torn last line, if any, is dropped).
    /// </summary>
    /// <param name="path">The journal file.</param>
    /// <param name="header">What this run measures; null writes a bare schema header and checks nothing.</param>
    /// <exception cref="InvalidDataException">
    /// The file is not a journal of this schema version, or it was written for another model, address, API kind,
    /// encoding or plan (the message names each difference).
    /// </exception>
    public static ApiSampleJournal OpenAppend(string path, ApiJournalHeader? header)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var full = System.IO.Path.GetFullPath(path);
        var exists = File.Exists(full) && new FileInfo(full).Length > 0;
        if (exists && !HasCompleteLine(full))
        {
            // A crash while the header was written leaves only part of it: the journal starts afresh. Any other file
            // without a complete line is not a journal, and is not cut.
            var text = File.ReadAllText(full, Encoding.UTF8);
            var tornHeader = text.Length <= HeaderOpening.Length
                ? HeaderOpening.StartsWith(text, StringComparison.Ordinal)
                : text.StartsWith(HeaderOpening, StringComparison.Ordinal);
            if (!tornHeader)
            {
                throw new InvalidDataException($"{full} holds no complete line and is no '{Schema}' journal; pass a journal written by ApiProfiler or a new path.");
            }

            File.WriteAllBytes(full, []);
            exists = false;
        }

        if (exists)
        {
            _ = Read(full); // validates the header and every complete line before anything is appended
            if (header is not null && ReadHeader(full) is { HasIdentity: true } existing)
            {
                var differences = existing.Differences(header);
                if (differences.Count > 0)
                {
                    throw new InvalidDataException(
                        $"{full} is the journal of another run ({string.Join("; ", differences)}, journal vs now); resuming it would mix their samples. Pass a new journal path, or the settings the journal was written with.");
                }
            }

            TruncateTornTail(full);
        }
        else
        {
            var dir = System.IO.Path.GetDirectoryName(full);
            if (!string.IsNullOrEmpty(dir))
            {
                Directory.CreateDirectory(dir);
            }
        }

        var stream = new FileStream(full, FileMode.Append, FileAccess.Write, FileShare.Read);
        var writer = new StreamWriter(stream, new UTF8Encoding(false)) { NewLine = "\n" };
        if (!exists)
        {
            writer.WriteLine(JsonSerializer.Serialize(header ?? new ApiJournalHeader(), ApiJournalJsonContext.Default.ApiJournalHeader));
            writer.Flush();
        }

        return new ApiSampleJournal(writer, full);
    }

    /// <summary>Reads every complete record of a journal; a missing or empty file gives none, a torn last line is ignored.</summary>
    /// <exception cref="InvalidDataException">Wrong header or schema version, a corrupt line before the last, or a record with impossible timings (negative, non-finite or above 1e9 s, or a first token after the end); each named by line number.</exception>
    public static IReadOnlyList<ApiSampleRecord> Read(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!File.Exists(path))
        {
            return Array.Empty<ApiSampleRecord>();
        }

        var text = File.ReadAllText(path, Encoding.UTF8);
        if (text.Length == 0)
        {
            return Array.Empty<ApiSampleRecord>();
        }

        var lines = text.Split('\n');
        // The text after the last newline is either empty or a line torn by a crash mid-write.
        var complete = lines.Length - 1;
        if (complete == 0)
        {
            return Array.Empty<ApiSampleRecord>();
        }

        CheckHeader(path, lines[0]);
        var records = new List<ApiSampleRecord>(complete);
        for (var i = 1; i < complete; i++)
        {
            if (string.IsNullOrWhiteSpace(lines[i]))
            {
                continue;
            }

            ApiSampleRecord record;
            try
            {
                record = JsonSerializer.Deserialize(lines[i], ApiJournalJsonContext.Default.ApiSampleRecord)
                    ?? throw new JsonException("the line is null");
            }
            catch (JsonException ex)
            {
                throw new InvalidDataException($"{path}, line {i + 1}: not a valid sample record ({ex.Message}); remove or repair that line to resume.", ex);
            }

            CheckTimings(path, i + 1, record);
            records.Add(record);
        }

        return records;
    }

    /// <summary>Reads a journal's header line; null for a missing or empty file.</summary>
    /// <exception cref="InvalidDataException">The first line is not a header of this schema version.</exception>
    public static ApiJournalHeader? ReadHeader(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!File.Exists(path))
        {
            return null;
        }

        string? first;
        using (var reader = new StreamReader(path, Encoding.UTF8))
        {
            first = reader.ReadLine();
        }

        if (string.IsNullOrEmpty(first))
        {
            return null;
        }

        CheckHeader(path, first);
        try
        {
            return JsonSerializer.Deserialize(first, ApiJournalJsonContext.Default.ApiJournalHeader);
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{path}: the header line is not a valid '{Schema}' header ({ex.Message}); pass a journal written by ApiProfiler or a new path.", ex);
        }
    }

    /// <summary>Appends one record and flushes it to disk. Thread-safe.</summary>
    public void Append(ApiSampleRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        var line = JsonSerializer.Serialize(record, ApiJournalJsonContext.Default.ApiSampleRecord);
        lock (_gate)
        {
            _writer.WriteLine(line);
            _writer.Flush();
        }
    }

    /// <inheritdoc />
    public void Dispose() => _writer.Dispose();

    private static void CheckHeader(string path, string line)
    {
        JsonElement schema, version;
        try
        {
            using var doc = JsonDocument.Parse(line);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("schema", out schema))
            {
                throw new InvalidDataException($"{path}: the first line is not a '{Schema}' header; pass a journal written by ApiProfiler or a new path.");
            }

            schema = schema.Clone();
            version = root.TryGetProperty("schema_version", out var v) ? v.Clone() : default;
        }
        catch (JsonException)
        {
            throw new InvalidDataException($"{path}: the first line is not JSON, so this is no '{Schema}' journal; pass a journal written by ApiProfiler or a new path.");
        }

        // Check the JSON kinds before reading values: "schema": 5 must be a one-line error, not an InvalidOperationException.
        if (schema.ValueKind != JsonValueKind.String || schema.GetString() != Schema)
        {
            throw new InvalidDataException($"{path}: the header's \"schema\" is {schema.GetRawText()}, not \"{Schema}\"; pass a journal written by ApiProfiler or a new path.");
        }

        if (version.ValueKind != JsonValueKind.Number || !version.TryGetInt32(out var number))
        {
            throw new InvalidDataException($"{path}: the header's \"schema_version\" is {(version.ValueKind == JsonValueKind.Undefined ? "missing" : version.GetRawText())}, not a version number; pass a journal written by ApiProfiler or a new path.");
        }

        if (number != SchemaVersion)
        {
            throw new InvalidDataException($"{path}: journal schema_version {number}, but this LlmEff reads version {SchemaVersion}; use the matching LlmEff version or start a new journal.");
        }
    }

    // A hand-edited or foreign journal can hold timings no request has: a negative runtime would silently drop the
    // record from every latency, a first token after the end makes TPOT negative, 1e300 s prints 300 digits.
    private static void CheckTimings(string path, int line, ApiSampleRecord record)
    {
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        void Check(double? value, string name)
        {
            if (value is { } v && (!double.IsFinite(v) || v < 0 || v > MaximumSeconds))
            {
                throw new InvalidDataException(string.Create(inv,
                    $"{path}, line {line}: \"{name}\" is {v:G4}, not a time in seconds between 0 and {MaximumSeconds:G1} (about 32 years); remove or repair that line (times are in seconds)."));
            }
        }

        Check(record.RuntimeSeconds, "runtime_seconds");
        Check(record.TimeToFirstTokenSeconds, "time_to_first_token_seconds");
        Check(record.TimeToFirstContentTokenSeconds, "time_to_first_content_token_seconds");
        if (record.RuntimeSeconds is { } e2e)
        {
            foreach (var (first, name) in new[] { (record.TimeToFirstTokenSeconds, "time_to_first_token_seconds"), (record.TimeToFirstContentTokenSeconds, "time_to_first_content_token_seconds") })
            {
                if (first is { } f && f > e2e)
                {
                    throw new InvalidDataException(string.Create(inv,
                        $"{path}, line {line}: \"{name}\" = {f:G4} s is after the end of the request (\"runtime_seconds\" = {e2e:G4} s); a first token cannot come after the last: remove or repair that line."));
                }
            }
        }
    }

    /// <summary>
    /// Rewrites the journal without the records <paramref name="drop"/> selects (and without a torn last line), keeping
    /// every other line as it was; the new file replaces the old one only once it is complete.
    /// </summary>
    /// <returns>How many records were dropped.</returns>
    internal static int RemoveRecords(string path, Func<ApiSampleRecord, bool> drop)
    {
        var lines = File.ReadAllText(path, Encoding.UTF8).Split('\n');
        var kept = new StringBuilder();
        var dropped = 0;
        for (var i = 0; i < lines.Length - 1; i++)
        {
            if (i > 0 && !string.IsNullOrWhiteSpace(lines[i])
                && drop(JsonSerializer.Deserialize(lines[i], ApiJournalJsonContext.Default.ApiSampleRecord)!))
            {
                dropped++;
                continue;
            }

            kept.Append(lines[i]).Append('\n');
        }

        if (dropped > 0)
        {
            var temporary = path + ".rewrite";
            File.WriteAllText(temporary, kept.ToString(), new UTF8Encoding(false));
            File.Move(temporary, path, overwrite: true);
        }

        return dropped;
    }

    private static bool HasCompleteLine(string path)
    {
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        var buffer = new byte[4096];
        for (int n; (n = fs.Read(buffer)) > 0;)
        {
            if (Array.IndexOf(buffer, (byte)'\n', 0, n) >= 0)
            {
                return true;
            }
        }

        return false;
    }

    private static void TruncateTornTail(string path)
    {
        using var fs = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.None);
        var length = fs.Length;
        var position = length;
        var buffer = new byte[1];
        while (position > 0)
        {
            fs.Seek(position - 1, SeekOrigin.Begin);
            fs.ReadExactly(buffer);
            if (buffer[0] == (byte)'\n')
            {
                break;
            }

            position--;
        }

        if (position != length)
        {
            fs.SetLength(position);
        }
    }
}
