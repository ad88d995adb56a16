namespace LlmEff.Core.Serialization;

/// <summary>
/// Writes CSV that <see cref="CsvReader"/> (and any RFC 4180 reader) reads back unchanged: a field is quoted when it
/// holds a comma, a quote, a line break, or white space at either end, and quotes inside it are written twice.
/// </summary>
public static class CsvFormat
{
    /// <summary>The field as written in a CSV row: unchanged when that is unambiguous, else in quotes; null is the empty field.</summary>
    public static string Escape(string? field)
    {
        if (string.IsNullOrEmpty(field))
        {
            return string.Empty;
        }

        // Edge white space is quoted too: readers that trim unquoted fields would otherwise drop it.
        var needsQuotes = field.AsSpan().IndexOfAny(",\"\r\n") >= 0 || char.IsWhiteSpace(field[0]) || char.IsWhiteSpace(field[^1]);
        return needsQuotes ? "\"" + field.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : field;
    }

    /// <summary>One row, without a line break: each field escaped, separated by commas.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="fields"/> is null.</exception>
    public static string FormatRow(IEnumerable<string?> fields)
    {
        ArgumentNullException.ThrowIfNull(fields);
        return string.Join(',', fields.Select(Escape));
    }

    /// <summary>Writes one row and a line feed to <paramref name="writer"/>.</summary>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    public static void WriteRow(TextWriter writer, IEnumerable<string?> fields)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.Write(FormatRow(fields));
        writer.Write('\n');
    }
}
