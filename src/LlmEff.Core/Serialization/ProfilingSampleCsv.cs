using System.Globalization;
using System.Text;

namespace LlmEff.Core.Serialization;

/// <summary>
/// CSV form of <see cref="ProfilingSample"/>s: header <c>prompt_tokens,output_tokens,runtime_seconds</c>, then the
/// optional columns <c>trial,concurrency,energy_joules,source,batch_size</c> (files written before <c>batch_size</c> existed
/// read as batch 1). Unknown columns (for example Megatron's
/// <c>stddev_seconds</c>) are ignored on read; numbers use the invariant culture. Read as RFC 4180 CSV by
/// <see cref="CsvTable"/>; written through <see cref="CsvFormat"/>, which quotes a source label holding a comma.
/// </summary>
public static class ProfilingSampleCsv
{
    /// <summary>The header line this library writes.</summary>
    public const string Header = "prompt_tokens,output_tokens,runtime_seconds,trial,concurrency,energy_joules,source,batch_size";

    /// <summary>The header written before the <c>batch_size</c> column existed; such files are still read and appended to.</summary>
    public const string HeaderWithoutBatchSize = "prompt_tokens,output_tokens,runtime_seconds,trial,concurrency,energy_joules,source";

    private static readonly string[] Required = ["prompt_tokens", "output_tokens", "runtime_seconds"];

    /// <summary>Reads every sample from the CSV file at <paramref name="path"/>.</summary>
    /// <exception cref="FileNotFoundException">No file there.</exception>
    /// <exception cref="InvalidDataException">A missing column or malformed row; the message gives line and column.</exception>
    public static IReadOnlyList<ProfilingSample> ReadFile(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"No samples CSV at '{path}'; check the path.", path);
        }

        using var reader = new StreamReader(path, Encoding.UTF8);
        return Read(reader, path);
    }

    /// <summary>Reads every sample from <paramref name="reader"/>; <paramref name="sourceName"/> names it in error messages.</summary>
    /// <exception cref="InvalidDataException">Malformed CSV (see <see cref="CsvTable"/>), a missing column or a malformed field; the message gives line and column.</exception>
    public static IReadOnlyList<ProfilingSample> Read(TextReader reader, string? sourceName = null)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var table = CsvTable.Read(reader, sourceName ?? "CSV", Header);
        foreach (var name in Required)
        {
            if (table.IndexOf(name) < 0)
            {
                throw new InvalidDataException($"{table.SourceName}: line {table.HeaderLineNumber}: missing column '{name}'; the header must include {string.Join(",", Required)}.");
            }
        }

        int cp = table.IndexOf("prompt_tokens"), co = table.IndexOf("output_tokens"), cr = table.IndexOf("runtime_seconds");
        int ct = table.IndexOf("trial"), cc = table.IndexOf("concurrency"), ce = table.IndexOf("energy_joules"), cs = table.IndexOf("source");
        var cb = table.IndexOf("batch_size");
        var samples = new List<ProfilingSample>(table.Rows.Count);
        foreach (var row in table.Rows)
        {
            samples.Add(new ProfilingSample(ParseInt(table, row, cp), ParseInt(table, row, co), ParseDouble(table, row, cr))
            {
                Trial = ct >= 0 && !string.IsNullOrWhiteSpace(row[ct]) ? ParseAtLeast(table, row, ct, 0, "a trial is numbered from 0") : null,
                // 0 is a request-rate load study's (no fixed number in flight).
                Concurrency = cc >= 0 && !string.IsNullOrWhiteSpace(row[cc]) ? ParseAtLeast(table, row, cc, 0, "concurrency counts requests in flight, 0 or more") : null,
                EnergyJoules = ce >= 0 && !string.IsNullOrWhiteSpace(row[ce]) ? ParseEnergy(table, row, ce) : null,
                Source = cs >= 0 && row[cs].Length > 0 ? row[cs] : null,
                BatchSize = cb >= 0 && !string.IsNullOrWhiteSpace(row[cb]) ? ParseBatchSize(table, row, cb) : null,
            });
        }

        return samples;
    }

    /// <summary>Writes the header and every sample to <paramref name="writer"/>.</summary>
    public static void Write(TextWriter writer, IEnumerable<ProfilingSample> samples)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(samples);
        writer.Write(Header);
        writer.Write('\n');
        foreach (var s in samples)
        {
            writer.Write(FormatRow(s));
            writer.Write('\n');
        }
    }

    /// <summary>Writes the samples to a new file at <paramref name="path"/> (replacing any file there).</summary>
    public static void WriteFile(string path, IEnumerable<ProfilingSample> samples)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        using var writer = new StreamWriter(path, append: false, new UTF8Encoding(false));
        Write(writer, samples);
    }

    /// <summary>One CSV row (no line break) for <paramref name="sample"/>, in <see cref="Header"/>'s column order.</summary>
    public static string FormatRow(ProfilingSample sample) => FormatRow(sample, includeBatchSize: true);

    /// <summary>One CSV row for <paramref name="sample"/>, in <see cref="Header"/>'s layout or, without the batch column, in <see cref="HeaderWithoutBatchSize"/>'s.</summary>
    /// <exception cref="ArgumentException">The batch column is left out but the sample has a batch size other than 1.</exception>
    internal static string FormatRow(ProfilingSample sample, bool includeBatchSize)
    {
        ArgumentNullException.ThrowIfNull(sample);
        if (!includeBatchSize && sample.BatchSize is { } b && b != 1)
        {
            throw new ArgumentException($"This file has no batch_size column, so a batch of {b} cannot be recorded in it; write batched samples to a new file.", nameof(sample));
        }

        var inv = CultureInfo.InvariantCulture;
        return CsvFormat.FormatRow(
        [
            sample.PromptTokens.ToString(inv),
            sample.OutputTokens.ToString(inv),
            sample.RuntimeSeconds.ToString("R", inv),
            sample.Trial?.ToString(inv),
            sample.Concurrency?.ToString(inv),
            sample.EnergyJoules?.ToString("R", inv),
            sample.Source,
            .. includeBatchSize ? [sample.BatchSize?.ToString(inv)] : Array.Empty<string?>(),
        ]);
    }

    private static int ParseInt(CsvTable table, CsvRecord row, int column)
    {
        var text = row[column].Trim();
        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v)
            ? v
            : throw new InvalidDataException($"{table.Location(row, column)}: '{text}' is not an integer.");
    }

    private static int ParseAtLeast(CsvTable table, CsvRecord row, int column, int minimum, string why)
    {
        var v = ParseInt(table, row, column);
        return v >= minimum ? v : throw new InvalidDataException($"{table.Location(row, column)}: {v} is out of range: {why}.");
    }

    // An empty cell means not measured; a measured energy is finite and positive (a fit once dropped the rest unsaid).
    private static double ParseEnergy(CsvTable table, CsvRecord row, int column)
    {
        var v = ParseDouble(table, row, column);
        return double.IsFinite(v) && v > 0
            ? v
            : throw new InvalidDataException($"{table.Location(row, column)}: energy_joules {row[column].Trim()} is no measured energy: give a finite, positive number of joules, or leave the cell empty where none was measured.");
    }

    private static int ParseBatchSize(CsvTable table, CsvRecord row, int column)
    {
        var b = ParseInt(table, row, column);
        return b >= 1 ? b : throw new InvalidDataException($"{table.Location(row, column)}: batch_size {b} is not a batch; it counts queries run together, 1 or more.");
    }

    private static double ParseDouble(CsvTable table, CsvRecord row, int column)
    {
        var text = row[column].Trim();
        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v)
            ? v
            : throw new InvalidDataException($"{table.Location(row, column)}: '{text}' is not a number.");
    }
}
