using System.Globalization;
using System.Text;

namespace LlmEff.Core.Serialization;

/// <summary>
/// CSV form of <see cref="ProfilingSample"/>s: header <c>prompt_tokens,output_tokens,runtime_seconds</c>, then the
/// optional columns <c>trial,concurrency,energy_joules,source</c>. Unknown columns (for example Megatron's
/// <c>stddev_seconds</c>) are ignored on read; numbers use the invariant culture.
/// </summary>
public static class ProfilingSampleCsv
{
    /// <summary>The header line this library writes.</summary>
    public const string Header = "prompt_tokens,output_tokens,runtime_seconds,trial,concurrency,energy_joules,source";

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
    public static IReadOnlyList<ProfilingSample> Read(TextReader reader, string? sourceName = null)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var where = sourceName ?? "CSV";
        var headerLine = reader.ReadLine();
        while (headerLine is not null && string.IsNullOrWhiteSpace(headerLine))
        {
            headerLine = reader.ReadLine();
        }

        if (headerLine is null)
        {
            throw new InvalidDataException($"{where}: empty; expected the header '{Header}'.");
        }

        var header = SplitLine(headerLine, where, 1).Select(h => h.Trim().ToLowerInvariant()).ToArray();
        int Col(string name) => Array.IndexOf(header, name);
        foreach (var name in Required)
        {
            if (Col(name) < 0)
            {
                throw new InvalidDataException($"{where}: line 1: missing column '{name}'; the header must include {string.Join(",", Required)}.");
            }
        }

        int cp = Col("prompt_tokens"), co = Col("output_tokens"), cr = Col("runtime_seconds");
        int ct = Col("trial"), cc = Col("concurrency"), ce = Col("energy_joules"), cs = Col("source");
        var samples = new List<ProfilingSample>();
        var lineNumber = 1;
        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            var fields = SplitLine(line, where, lineNumber);
            if (fields.Count < header.Length)
            {
                throw new InvalidDataException($"{where}: line {lineNumber}: {fields.Count} fields but the header has {header.Length}.");
            }

            samples.Add(new ProfilingSample(
                ParseInt(fields, cp, header, where, lineNumber),
                ParseInt(fields, co, header, where, lineNumber),
                ParseDouble(fields, cr, header, where, lineNumber))
            {
                Trial = ct >= 0 && fields[ct].Length > 0 ? ParseInt(fields, ct, header, where, lineNumber) : null,
                Concurrency = cc >= 0 && fields[cc].Length > 0 ? ParseInt(fields, cc, header, where, lineNumber) : null,
                EnergyJoules = ce >= 0 && fields[ce].Length > 0 ? ParseDouble(fields, ce, header, where, lineNumber) : null,
                Source = cs >= 0 && fields[cs].Length > 0 ? fields[cs] : null,
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
    public static string FormatRow(ProfilingSample sample)
    {
        ArgumentNullException.ThrowIfNull(sample);
        var inv = CultureInfo.InvariantCulture;
        return string.Join(
            ',',
            sample.PromptTokens.ToString(inv),
            sample.OutputTokens.ToString(inv),
            sample.RuntimeSeconds.ToString("R", inv),
            sample.Trial?.ToString(inv) ?? string.Empty,
            sample.Concurrency?.ToString(inv) ?? string.Empty,
            sample.EnergyJoules?.ToString("R", inv) ?? string.Empty,
            Quote(sample.Source));
    }

    private static string Quote(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return string.Empty;
        }

        return value.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;
    }

    private static List<string> SplitLine(string line, string where, int lineNumber)
    {
        var fields = new List<string>();
        var sb = new StringBuilder();
        var inQuotes = false;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (inQuotes)
            {
                if (c == '"' && i + 1 < line.Length && line[i + 1] == '"')
                {
                    sb.Append('"');
                    i++;
                }
                else if (c == '"')
                {
                    inQuotes = false;
                }
                else
                {
                    sb.Append(c);
                }
            }
            else if (c == '"')
            {
                inQuotes = true;
            }
            else if (c == ',')
            {
                fields.Add(sb.ToString());
                sb.Clear();
            }
            else
            {
                sb.Append(c);
            }
        }

        if (inQuotes)
        {
            throw new InvalidDataException($"{where}: line {lineNumber}: unterminated quoted field.");
        }

        fields.Add(sb.ToString().TrimEnd('\r'));
        return fields;
    }

    private static int ParseInt(List<string> fields, int col, string[] header, string where, int line)
    {
        var text = fields[col].Trim();
        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v)
            ? v
            : throw new InvalidDataException($"{where}: line {line}, column {col + 1} ({header[col]}): '{text}' is not an integer.");
    }

    private static double ParseDouble(List<string> fields, int col, string[] header, string where, int line)
    {
        var text = fields[col].Trim();
        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v)
            ? v
            : throw new InvalidDataException($"{where}: line {line}, column {col + 1} ({header[col]}): '{text}' is not a number.");
    }
}
