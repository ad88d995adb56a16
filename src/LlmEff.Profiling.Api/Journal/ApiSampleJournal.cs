using System.Text;
using System.Text.Json;

namespace LlmEff.Profiling.Api.Journal;

/// <summary>
/// The run's journal: a JSON-lines file with a header line, then one <see cref="ApiSampleRecord"/> per finished
/// request, each flushed as it arrives. A crash can at worst tear the last line, which reopening drops (that request
/// is then simply sent again); a resumed run reads the journal and skips every request that already succeeded.
/// </summary>
public sealed class ApiSampleJournal : IDisposable
{
    /// <summary>The <c>schema</c> value of the header line.</summary>
    public const string Schema = "llmeff.api-journal";

    /// <summary>The <c>schema_version</c> this version writes and reads.</summary>
    public const int SchemaVersion = 1;

    private static readonly string HeaderLine = $"{{\"schema\":\"{Schema}\",\"schema_version\":{SchemaVersion}}}";

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
    public static ApiSampleJournal OpenAppend(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var full = System.IO.Path.GetFullPath(path);
        var exists = File.Exists(full) && new FileInfo(full).Length > 0;
        if (exists)
        {
            _ = Read(full); // validates the header and every complete line before anything is appended
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
            writer.WriteLine(HeaderLine);
            writer.Flush();
        }

        return new ApiSampleJournal(writer, full);
    }

    /// <summary>Reads every complete record of a journal; a missing or empty file gives none, a torn last line is ignored.</summary>
    /// <exception cref="InvalidDataException">Wrong header or schema version, or a corrupt line before the last (named by line number).</exception>
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

            try
            {
                records.Add(JsonSerializer.Deserialize(lines[i], ApiJournalJsonContext.Default.ApiSampleRecord)
                    ?? throw new JsonException("the line is null"));
            }
            catch (JsonException ex)
            {
                throw new InvalidDataException($"{path}, line {i + 1}: not a valid sample record ({ex.Message}); remove or repair that line to resume.", ex);
            }
        }

        return records;
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
        try
        {
            using var doc = JsonDocument.Parse(line);
            var root = doc.RootElement;
            if (root.TryGetProperty("schema", out var schema) && schema.GetString() == Schema
                && root.TryGetProperty("schema_version", out var version) && version.TryGetInt32(out var v))
            {
                if (v != SchemaVersion)
                {
                    throw new InvalidDataException($"{path}: journal schema_version {v}, but this LlmEff reads version {SchemaVersion}; use the matching LlmEff version or start a new journal.");
                }

                return;
            }
        }
        catch (JsonException)
        {
        }

        throw new InvalidDataException($"{path}: the first line is not a '{Schema}' header; pass a journal written by ApiProfiler or a new path.");
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
