using System.Text;

namespace LlmEff.Core.Serialization;

/// <summary>
/// Appends samples to a CSV file as they are measured, flushing each row so that a crash loses nothing;
/// reopening an existing file appends (the header is written only to a new or empty file), which is how
/// an interrupted profiling run resumes.
/// </summary>
public sealed class ProfilingSampleCsvWriter : IDisposable
{
    private readonly StreamWriter _writer;
    private readonly object _gate = new();

    private readonly bool _batchColumn;

    private ProfilingSampleCsvWriter(StreamWriter writer, bool batchColumn)
    {
        _writer = writer;
        _batchColumn = batchColumn;
    }

    /// <summary>The file being written.</summary>
    public string Path { get; private init; } = string.Empty;

    /// <summary>Opens <paramref name="path"/> for appending, creating it with a header when new or empty.</summary>
    /// <remarks>A file written before the <c>batch_size</c> column existed keeps its layout; batch-1 samples can still be appended to it.</remarks>
    /// <exception cref="InvalidDataException">The existing file has a header of another layout.</exception>
    public static ProfilingSampleCsvWriter OpenAppend(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var exists = File.Exists(path) && new FileInfo(path).Length > 0;
        var batchColumn = true;
        if (exists)
        {
            using var reader = new StreamReader(path, Encoding.UTF8);
            var first = new CsvReader(reader, path).ReadRecord();
            var header = first is null ? string.Empty : string.Join(",", first.Select(f => f.Trim()));
            batchColumn = header != ProfilingSampleCsv.HeaderWithoutBatchSize;
            if (batchColumn && header != ProfilingSampleCsv.Header)
            {
                throw new InvalidDataException($"{path}: its header '{header}' differs from '{ProfilingSampleCsv.Header}'; write to a new file or convert this one.");
            }
        }

        var dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(dir))
        {
            Directory.CreateDirectory(dir);
        }

        var stream = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read);
        var writer = new StreamWriter(stream, new UTF8Encoding(false)) { NewLine = "\n" };
        if (!exists)
        {
            writer.WriteLine(ProfilingSampleCsv.Header);
            writer.Flush();
        }
        else if (!EndsWithNewline(path))
        {
            writer.WriteLine();
        }

        return new ProfilingSampleCsvWriter(writer, batchColumn) { Path = path };
    }

    /// <summary>
    /// Reads the samples an interrupted run wrote to <paramref name="path"/>, to resume it: a row torn by a crash while it
    /// was written (the text after the last newline of a file with this writer's header, which ends every row it writes
    /// with one) is cut off first, so it is measured again rather than refused or misread (a torn <c>…,16</c> would read
    /// as batch size 1). A missing or empty file gives none.
    /// </summary>
    /// <exception cref="InvalidDataException">A complete row does not parse (named by line).</exception>
    public static IReadOnlyList<ProfilingSample> ReadForResume(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!File.Exists(path) || new FileInfo(path).Length == 0)
        {
            return [];
        }

        if (!EndsWithNewline(path))
        {
            string? first;
            using (var reader = new StreamReader(path, Encoding.UTF8))
            {
                first = reader.ReadLine();
            }

            if (first?.Trim() is ProfilingSampleCsv.Header or ProfilingSampleCsv.HeaderWithoutBatchSize)
            {
                var bytes = File.ReadAllBytes(path);
                using var fs = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.Read);
                fs.SetLength(Array.LastIndexOf(bytes, (byte)'\n') + 1);
            }
        }

        return ProfilingSampleCsv.ReadFile(path);
    }

    /// <summary>Appends one sample and flushes it to disk. Thread-safe.</summary>
    /// <exception cref="ArgumentException">The file predates the <c>batch_size</c> column and the sample is batched.</exception>
    public void Write(ProfilingSample sample)
    {
        ArgumentNullException.ThrowIfNull(sample);
        var row = ProfilingSampleCsv.FormatRow(sample, _batchColumn);
        lock (_gate)
        {
            _writer.WriteLine(row);
            _writer.Flush();
        }
    }

    /// <inheritdoc />
    public void Dispose() => _writer.Dispose();

    private static bool EndsWithNewline(string path)
    {
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        if (fs.Length == 0)
        {
            return true;
        }

        fs.Seek(-1, SeekOrigin.End);
        return fs.ReadByte() == '\n';
    }
}
