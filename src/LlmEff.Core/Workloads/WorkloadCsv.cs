using System.Globalization;
using System.Text;
using LlmEff.Core.Serialization;

namespace LlmEff.Core.Workloads;

/// <summary>
/// CSV form of a <see cref="Workload"/>: header <c>prompt_tokens,output_tokens</c> (other columns are ignored, in any
/// order), one query per row, invariant-culture integers; read as RFC 4180 CSV by <see cref="CsvTable"/>, so quoted fields may
/// hold commas. Errors name the line and column.
/// </summary>
public static class WorkloadCsv
{
    /// <summary>The header this library writes.</summary>
    public const string Header = "prompt_tokens,output_tokens";

    /// <summary>Reads a workload from the CSV file at <paramref name="path"/>; its name defaults to the file name without extension.</summary>
    /// <exception cref="FileNotFoundException">No file there.</exception>
    /// <exception cref="InvalidDataException">A missing column or a malformed row; the message gives line and column.</exception>
    public static Workload ReadFile(string path, string? name = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"No workload CSV at '{path}'; check the path.", path);
        }

        using var reader = new StreamReader(path, Encoding.UTF8);
        return Read(reader, name ?? Path.GetFileNameWithoutExtension(path), path);
    }

    /// <summary>Reads a workload named <paramref name="name"/> from <paramref name="reader"/>; <paramref name="sourceName"/> names it in errors.</summary>
    /// <exception cref="InvalidDataException">Malformed CSV (see <see cref="CsvTable"/>), a missing column or a malformed row; the message gives line and column.</exception>
    public static Workload Read(TextReader reader, string name, string? sourceName = null)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var table = CsvTable.Read(reader, sourceName ?? "workload CSV", Header);
        var cp = table.IndexOf("prompt_tokens");
        var co = table.IndexOf("output_tokens");
        if (cp < 0 || co < 0)
        {
            throw new InvalidDataException($"{table.SourceName}: line {table.HeaderLineNumber}: the header '{string.Join(",", table.Header)}' lacks '{(cp < 0 ? "prompt_tokens" : "output_tokens")}'; it must include {Header}.");
        }

        var queries = new List<WorkloadQuery>(table.Rows.Count);
        foreach (var row in table.Rows)
        {
            var p = Field(table, row, cp, minimum: 0);
            var o = Field(table, row, co, minimum: 1);
            queries.Add(new WorkloadQuery(p, o));
        }

        if (queries.Count == 0)
        {
            throw new InvalidDataException($"{table.SourceName}: no queries after the header; add rows of {Header}.");
        }

        return new Workload(name, queries);
    }

    /// <summary>Writes <paramref name="workload"/> as CSV.</summary>
    public static void Write(Workload workload, TextWriter writer)
    {
        ArgumentNullException.ThrowIfNull(workload);
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteLine(Header);
        for (var i = 0; i < workload.Count; i++)
        {
            writer.WriteLine(CsvFormat.FormatRow([workload.PromptTokens[i].ToString(CultureInfo.InvariantCulture), workload.OutputTokens[i].ToString(CultureInfo.InvariantCulture)]));
        }
    }

    /// <summary>Writes <paramref name="workload"/> to the CSV file at <paramref name="path"/>, replacing it.</summary>
    public static void WriteFile(Workload workload, string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        using var writer = new StreamWriter(path, append: false, new UTF8Encoding(false));
        Write(workload, writer);
    }

    private static int Field(CsvTable table, CsvRecord row, int column, int minimum)
    {
        var text = row[column].Trim();
        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value))
        {
            // A whole number past int's range is a count no context holds, not a malformed one: say which it is.
            throw new InvalidDataException(long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out _) || System.Numerics.BigInteger.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out _)
                ? $"{table.Location(row, column)}: {text} tokens is beyond any model's context (at most {int.MaxValue.ToString("N0", CultureInfo.InvariantCulture)} here); check the column holds token counts."
                : $"{table.Location(row, column)}: '{text}' is not a whole number of tokens.");
        }

        if (value < minimum)
        {
            throw new InvalidDataException($"{table.Location(row, column)}: {value} is below {minimum}; {(minimum == 0 ? "prompt sizes are 0 or more" : "a query generates at least 1 token")}.");
        }

        return value;
    }
}
