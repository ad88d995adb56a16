namespace LlmEff.Cli.Commands;

/// <summary>Writes a left-aligned first column and right-aligned other columns, padded to the widest cell.</summary>
internal static class TextTable
{
    public static void Write(TextWriter output, IReadOnlyList<string> header, IReadOnlyList<string[]> rows, int leftAlignedColumns = 1)
    {
        var widths = header.Select((h, i) => Math.Max(h.Length, rows.Count == 0 ? 0 : rows.Max(r => r[i].Length))).ToArray();
        string Line(IReadOnlyList<string> cells) => string.Join("  ", cells.Select((v, i) => i < leftAlignedColumns ? v.PadRight(widths[i]) : v.PadLeft(widths[i]))).TrimEnd();
        output.WriteLine(Line(header));
        output.WriteLine(string.Join("  ", widths.Select(w => new string('-', w))));
        foreach (var r in rows)
        {
            output.WriteLine(Line(r));
        }
    }
}
