using System.Globalization;
using System.Text;

namespace LlmEff.Core.Workloads;

/// <summary>
/// CSV form of a <see cref="Workload"/>: header <c>prompt_tokens,output_tokens</c> (other columns are ignored, in any
/// order), one query per row, invariant-culture integers. Errors name the line and column.
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
    public static Workload Read(TextReader reader, string name, string? sourceName = null)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var where = sourceName ?? "workload CSV";
        var lineNumber = 0;
        string? line;
        do
        {
            line = reader.ReadLine();
            lineNumber++;
        }
        while (line is not null && string.IsNullOrWhiteSpace(line));

        if (line is null)
        {
            throw new InvalidDataException($"{where}: empty; expected the header '{Header}'.");
        }

        var header = line.Split(',').Select(h => h.Trim().ToLowerInvariant()).ToArray();
        var cp = Array.IndexOf(header, "prompt_tokens");
        var co = Array.IndexOf(header, "output_tokens");
        if (cp < 0 || co < 0)
        {
            throw new InvalidDataException($"{where}: line {lineNumber}: the header '{line}' lacks '{(cp < 0 ? "prompt_tokens" : "output_tokens")}'; it must include {Header}.");
        }

        var queries = new List<WorkloadQuery>();
        while ((line = reader.ReadLine()) is not null)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            var fields = line.Split(',');
            var p = Field(fields, cp, "prompt_tokens", minimum: 0, where, lineNumber);
            var o = Field(fields, co, "output_tokens", minimum: 1, where, lineNumber);
            queries.Add(new WorkloadQuery(p, o));
        }

        if (queries.Count == 0)
        {
            throw new InvalidDataException($"{where}: no queries after the header; add rows of {Header}.");
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
            writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{workload.PromptTokens[i]},{workload.OutputTokens[i]}"));
        }
    }

    /// <summary>Writes <paramref name="workload"/> to the CSV file at <paramref name="path"/>, replacing it.</summary>
    public static void WriteFile(Workload workload, string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        using var writer = new StreamWriter(path, append: false, new UTF8Encoding(false));
        Write(workload, writer);
    }

    private static int Field(string[] fields, int column, string name, int minimum, string where, int line)
    {
        if (column >= fields.Length)
        {
            throw new InvalidDataException($"{where}: line {line}, column {column + 1} ({name}): missing; the row has only {fields.Length} fields.");
        }

        var text = fields[column].Trim();
        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value))
        {
            throw new InvalidDataException($"{where}: line {line}, column {column + 1} ({name}): '{text}' is not a whole number of tokens.");
        }

        if (value < minimum)
        {
            throw new InvalidDataException($"{where}: line {line}, column {column + 1} ({name}): {value} is below {minimum}; {(minimum == 0 ? "prompt sizes are 0 or more" : "a query generates at least 1 token")}.");
        }

        return value;
    }
}
