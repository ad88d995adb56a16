using System.Collections;

namespace LlmEff.Core.Serialization;

/// <summary>
/// One record of a CSV file as read by <see cref="CsvReader"/>: its fields, unquoted, with where each one starts in the
/// file so that errors can point at it.
/// </summary>
public sealed class CsvRecord : IReadOnlyList<string>
{
    private readonly string[] _fields;
    private readonly int[] _lines;
    private readonly int[] _characters;

    internal CsvRecord(string[] fields, int[] lines, int[] characters)
    {
        _fields = fields;
        _lines = lines;
        _characters = characters;
    }

    /// <summary>The 1-based line on which the record starts (a quoted field with line breaks makes a record span several lines).</summary>
    public int LineNumber => _lines[0];

    /// <summary>Number of fields; at least 1.</summary>
    public int Count => _fields.Length;

    /// <summary>The field at <paramref name="index"/> (0-based), without its enclosing quotes and with doubled quotes made single.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is outside [0, <see cref="Count"/>).</exception>
    public string this[int index] => _fields[CheckIndex(index)];

    /// <summary>The 1-based line on which the field at <paramref name="index"/> starts.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is outside [0, <see cref="Count"/>).</exception>
    public int LineOf(int index) => _lines[CheckIndex(index)];

    /// <summary>The 1-based character position, within its line, at which the field at <paramref name="index"/> starts.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is outside [0, <see cref="Count"/>).</exception>
    public int CharacterOf(int index) => _characters[CheckIndex(index)];

    /// <inheritdoc />
    public IEnumerator<string> GetEnumerator() => ((IEnumerable<string>)_fields).GetEnumerator();

    // A raw array index would throw IndexOutOfRangeException without saying which range is valid.
    private int CheckIndex(int index)
    {
        if ((uint)index >= (uint)_fields.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(index), index, $"The record on line {LineNumber} has {_fields.Length} field(s); give an index from 0 to {_fields.Length - 1}.");
        }

        return index;
    }

    /// <inheritdoc />
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
