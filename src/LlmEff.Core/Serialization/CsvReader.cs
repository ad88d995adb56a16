using System.Text;

namespace LlmEff.Core.Serialization;

/// <summary>
/// Reads CSV records one at a time, as RFC 4180 defines them: fields separated by commas, records by line breaks
/// (CRLF, LF or a lone CR); a field in double quotes may hold commas, line breaks and quotes written twice
/// (<c>"say ""hi"", then go"</c>). Every CSV input of the library goes through it.
/// </summary>
/// <remarks>
/// Beyond the RFC, and because hand-written files have them: a UTF-8 byte order mark at the start is skipped, lines that
/// are empty or only white space (outside quotes) are skipped, and spaces or tabs around a quoted field
/// (<c>1, "a, b" ,2</c>) are dropped. Anything the RFC leaves ambiguous is refused with the line, column and character
/// rather than guessed: a quote inside an unquoted field, text after a closing quote, or a quote that is never closed.
/// Unquoted fields are returned exactly as written, spaces included; formats trim what they parse.
/// </remarks>
public sealed class CsvReader
{
    private const int End = -1;
    private const int Nothing = -2;

    private readonly TextReader _reader;
    private readonly StringBuilder _field = new();
    private int _pending = Nothing;
    private int _line = 1;
    private int _character = 1;
    private bool _started;

    /// <summary>Reads from <paramref name="reader"/>; <paramref name="sourceName"/> (a file name or path) starts every error message.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="reader"/> is null.</exception>
    public CsvReader(TextReader reader, string? sourceName = null)
    {
        ArgumentNullException.ThrowIfNull(reader);
        _reader = reader;
        SourceName = string.IsNullOrWhiteSpace(sourceName) ? "CSV" : sourceName;
    }

    /// <summary>Names the input in error messages.</summary>
    public string SourceName { get; }

    /// <summary>The next record, or null at the end of the input.</summary>
    /// <exception cref="InvalidDataException">Malformed quoting; the message gives line, column and character and says how to fix it.</exception>
    public CsvRecord? ReadRecord()
    {
        if (!_started)
        {
            _started = true;
            if (Peek() == '\uFEFF')
            {
                Next(); // the byte order mark of a UTF-8 file decoded without BOM detection
                _character = 1;
            }
        }

        while (true)
        {
            if (Peek() == End)
            {
                return null;
            }

            var record = ReadOne(out var blank);
            if (!blank)
            {
                return record;
            }
        }
    }

    /// <summary>Every remaining record, in order.</summary>
    /// <exception cref="InvalidDataException">Malformed quoting; see <see cref="ReadRecord"/>.</exception>
    public IEnumerable<CsvRecord> ReadAll()
    {
        while (ReadRecord() is { } record)
        {
            yield return record;
        }
    }

    private CsvRecord ReadOne(out bool blank)
    {
        var fields = new List<string>();
        var lines = new List<int>();
        var characters = new List<int>();
        var anyQuoted = false;
        while (true)
        {
            lines.Add(_line);
            characters.Add(_character);
            _field.Clear();

            // Leading spaces are kept for an unquoted field but dropped before an opening quote.
            while (Peek() is ' ' or '\t')
            {
                _field.Append((char)Next());
            }

            if (Peek() == '"')
            {
                anyQuoted = true;
                _field.Clear();
                ReadQuoted(fields.Count);
            }
            else
            {
                ReadUnquoted(fields.Count);
            }

            fields.Add(_field.ToString());
            var c = Next();
            if (c == ',')
            {
                continue;
            }

            if (c is End or '\n' or '\r')
            {
                if (c == '\r' && Peek() == '\n')
                {
                    Next();
                }

                blank = !anyQuoted && fields.Count == 1 && string.IsNullOrWhiteSpace(fields[0]);
                return new CsvRecord(fields.ToArray(), lines.ToArray(), characters.ToArray());
            }

            // Only a quoted field can stop before a separator: something followed its closing quote.
            throw Error(fields.Count - 1, _line, _character - 1, $"'{(char)c}' follows the closing quote of a quoted field; put the whole field in quotes, writing any quote inside it twice (\"a \"\"b\"\" c\").");
        }
    }

    private void ReadUnquoted(int column)
    {
        while (Peek() is not (End or ',' or '\n' or '\r'))
        {
            if (Peek() == '"')
            {
                throw Error(column, _line, _character, "a quote inside an unquoted field; put the whole field in quotes and write the quote twice (\"5\"\" disk\").");
            }

            _field.Append((char)Next());
        }
    }

    private void ReadQuoted(int column)
    {
        int openLine = _line, openCharacter = _character;
        Next(); // the opening quote
        while (true)
        {
            var c = Next();
            if (c == End)
            {
                throw Error(column, openLine, openCharacter, "the quoted field opened here is never closed; add the closing quote (a quote inside a quoted field is written twice: \"\").");
            }

            if (c == '"')
            {
                if (Peek() == '"')
                {
                    Next();
                    _field.Append('"');
                    continue;
                }

                // Spaces after the closing quote are dropped; the caller checks that a separator follows.
                while (Peek() is ' ' or '\t')
                {
                    Next();
                }

                return;
            }

            _field.Append((char)c);
        }
    }

    private InvalidDataException Error(int column, int line, int character, string message)
        => new($"{SourceName}: line {line}, column {column + 1}, character {character}: {message}");

    private int Peek()
    {
        if (_pending == Nothing)
        {
            _pending = _reader.Read();
        }

        return _pending;
    }

    private int Next()
    {
        var c = Peek();
        _pending = Nothing;
        if (c == '\n' || (c == '\r' && Peek() != '\n'))
        {
            _line++;
            _character = 1;
        }
        else if (c != End && c != '\r')
        {
            _character++;
        }

        return c;
    }
}
