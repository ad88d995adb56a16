using System.Text;

namespace LlmEff.Core.Metrics;

/// <summary>Splits one CSV line (RFC 4180 quoting, no embedded newlines) into fields with their 1-based start columns, for error messages.</summary>
internal static class CsvFields
{
    public static List<(string Text, int Column)> Split(string line, string file, int lineNumber)
    {
        var fields = new List<(string, int)>();
        var current = new StringBuilder();
        var quoted = false;
        var start = 1;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < line.Length && line[i + 1] == '"')
                {
                    current.Append('"');
                    i++;
                }
                else if (c == '"')
                {
                    quoted = false;
                }
                else
                {
                    current.Append(c);
                }
            }
            else if (c == '"')
            {
                quoted = true;
            }
            else if (c == ',')
            {
                fields.Add((current.ToString(), start));
                current.Clear();
                start = i + 2;
            }
            else
            {
                current.Append(c);
            }
        }

        if (quoted)
        {
            throw new InvalidDataException($"{file}:{lineNumber}:{start}: unterminated quoted field; close the quote or remove it.");
        }

        fields.Add((current.ToString(), start));
        return fields;
    }
}
