using System.Globalization;
using System.Text;

namespace LlmEff.Core.Serialization;

/// <summary>
/// A whole CSV file read by <see cref="CsvReader"/>: a header row naming the columns, then rows with exactly as many
/// fields as the header. Rows of another length are refused with their line number, since guessing which field is
/// missing (or which comma should have been quoted) would shift values into the wrong columns.
/// </summary>
public sealed class CsvTable
{
    private CsvTable(string sourceName, CsvRecord header, IReadOnlyList<CsvRecord> rows)
    {
        SourceName = sourceName;
        Header = header.Select(h => h.Trim()).ToArray();
        HeaderLineNumber = header.LineNumber;
        Rows = rows;
    }

    /// <summary>Names the input in error messages (a file name or path).</summary>
    public string SourceName { get; }

    /// <summary>The column names, trimmed of surrounding white space.</summary>
    public IReadOnlyList<string> Header { get; }

    /// <summary>The 1-based line of the header (later than 1 when blank lines come first).</summary>
    public int HeaderLineNumber { get; }

    /// <summary>The rows after the header, blank lines left out; each has <c>Header.Count</c> fields.</summary>
    public IReadOnlyList<CsvRecord> Rows { get; }

    /// <summary>Reads the CSV file at <paramref name="path"/> (UTF-8, with or without a byte order mark); errors name the path.</summary>
    /// <param name="path">The file.</param>
    /// <param name="expectedHeader">A header to suggest when the file is empty, e.g. <c>prompt_tokens,output_tokens</c>.</param>
    /// <exception cref="FileNotFoundException">No file there.</exception>
    /// <exception cref="InvalidDataException">Empty, malformed quoting, a column named twice, or a row of the wrong length; the message gives the line.</exception>
    public static CsvTable ReadFile(string path, string? expectedHeader = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"No CSV file at '{path}'; check the path.", path);
        }

        using var reader = new StreamReader(path, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        return Read(reader, path, expectedHeader);
    }

    /// <summary>Reads a CSV table from <paramref name="reader"/>.</summary>
    /// <param name="reader">The text.</param>
    /// <param name="sourceName">Starts every error message; "CSV" when null.</param>
    /// <param name="expectedHeader">A header to suggest when the input is empty.</param>
    /// <exception cref="ArgumentNullException"><paramref name="reader"/> is null.</exception>
    /// <exception cref="InvalidDataException">Empty, malformed quoting, a column named twice, or a row of the wrong length; the message gives the line.</exception>
    public static CsvTable Read(TextReader reader, string? sourceName = null, string? expectedHeader = null)
    {
        var csv = new CsvReader(reader, sourceName);
        var source = csv.SourceName;
        var header = csv.ReadRecord() ?? throw new InvalidDataException(expectedHeader is null
            ? $"{source}: empty; expected a header row naming the columns."
            : $"{source}: empty; expected the header '{expectedHeader}'.");
        var names = header.Select(h => h.Trim()).ToArray();
        for (var i = 0; i < names.Length; i++)
        {
            for (var j = 0; j < i; j++)
            {
                if (names[i].Length > 0 && string.Equals(names[i], names[j], StringComparison.OrdinalIgnoreCase))
                {
                    throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"{source}: line {header.LineNumber}: columns {j + 1} and {i + 1} are both named '{names[i]}'; rename one so that each name picks one column."));
                }
            }
        }

        var rows = new List<CsvRecord>();
        while (csv.ReadRecord() is { } row)
        {
            if (row.Count < names.Length)
            {
                var missing = row.Count;
                throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"{source}: line {row.LineNumber}, column {missing + 1} ({names[missing]}): missing; the row has {Fields(row.Count)} but the header has {names.Length}. Add the missing fields (an empty field is written as nothing between two commas)."));
            }

            if (row.Count > names.Length)
            {
                var extra = names.Length;
                throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"{source}: line {row.LineOf(extra)}, column {extra + 1}: the row has {Fields(row.Count)} but the header has {names.Length}. Put quotes around a field that holds a comma (\"Hello, world\"), or remove the extra fields."));
            }

            rows.Add(row);
        }

        return new CsvTable(source, header, rows);
    }

    /// <summary>The 0-based index of the column named <paramref name="name"/> (case-insensitive, trimmed), or −1 when there is none.</summary>
    public int IndexOf(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var wanted = name.Trim();
        for (var i = 0; i < Header.Count; i++)
        {
            if (string.Equals(Header[i], wanted, StringComparison.OrdinalIgnoreCase))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>
    /// Where a field is, for error messages: <c>source: line L, column C (name)</c>, with the 1-based column number and the
    /// column's name from the header.
    /// </summary>
    /// <param name="row">One of <see cref="Rows"/>.</param>
    /// <param name="column">The 0-based column.</param>
    public string Location(CsvRecord row, int column)
    {
        ArgumentNullException.ThrowIfNull(row);
        ArgumentOutOfRangeException.ThrowIfNegative(column);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(column, Header.Count);
        return string.Create(CultureInfo.InvariantCulture, $"{SourceName}: line {row.LineOf(column)}, column {column + 1} ({Header[column]})");
    }

    private static string Fields(int count) => count == 1 ? "1 field" : count.ToString(CultureInfo.InvariantCulture) + " fields";
}
