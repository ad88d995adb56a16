using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace LlmEff.Profiling.Api;

/// <summary>JSON access shared by the log readers: one clear error for broken JSON, lenient reads of optional fields.</summary>
internal static class JsonLog
{
    private static readonly JsonDocumentOptions Options = new() { MaxDepth = 256 };

    /// <summary>Parses one JSON document, or explains where the text stops being JSON (most often: a truncated file).</summary>
    public static JsonDocument Parse(string text, string sourceName, string expected)
    {
        try
        {
            return JsonDocument.Parse(text, Options);
        }
        catch (JsonException ex)
        {
            throw Broken(ex, text, sourceName, expected, lineOffset: 0);
        }
    }

    /// <summary>Parses one line of a JSON Lines file (<paramref name="lineNumber"/> is 1-based).</summary>
    public static JsonDocument ParseLine(string line, int lineNumber, string sourceName, string expected)
    {
        try
        {
            return JsonDocument.Parse(line, Options);
        }
        catch (JsonException ex)
        {
            throw Broken(ex, line, sourceName, expected, lineOffset: lineNumber - 1);
        }
    }

    private static InvalidDataException Broken(JsonException ex, string text, string sourceName, string expected, int lineOffset)
    {
        var inv = CultureInfo.InvariantCulture;
        var line = (ex.LineNumber ?? 0) + 1 + lineOffset;
        var trimmed = text.TrimEnd();
        if (trimmed.Length == 0)
        {
            return new InvalidDataException($"{sourceName} is empty; expected {expected}.", ex);
        }

        // A reader that runs out of input mid-value reports the position at the end of the text.
        var lastLine = trimmed.Count(c => c == '\n');
        var lastLineBytes = System.Text.Encoding.UTF8.GetByteCount(trimmed.AsSpan(trimmed.LastIndexOf('\n') + 1));
        var atEnd = ex.LineNumber is { } l && ex.BytePositionInLine is { } b
            && (l > lastLine || (l == lastLine && b >= lastLineBytes));
        return atEnd
            ? new InvalidDataException(string.Create(inv, $"{sourceName} ends in the middle of its JSON (line {line}): the file is truncated; expected {expected} (let the tool finish writing it, or copy it again)."), ex)
            : new InvalidDataException(string.Create(inv, $"{sourceName} is not valid JSON at line {line}, byte {ex.BytePositionInLine ?? 0}; expected {expected}."), ex);
    }

    public static bool Has(JsonElement obj, string name)
        => obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(name, out _);

    public static JsonElement? Get(JsonElement obj, string name)
        => obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;

    public static double? Number(JsonElement? value)
        => value is { ValueKind: JsonValueKind.Number } v ? v.GetDouble() : null;

    public static double? Number(JsonElement obj, string name) => Number(Get(obj, name));

    /// <summary>A token count: a JSON number that is a whole number, or null (fractional counts are not counts).</summary>
    public static int? Count(JsonElement? value)
        => Number(value) is { } d && double.IsFinite(d) && d == Math.Floor(d) && d is >= int.MinValue and <= int.MaxValue ? (int)d : null;

    public static int? Count(JsonElement obj, string name) => Count(Get(obj, name));

    public static string? Text(JsonElement obj, string name)
        => Get(obj, name) is { ValueKind: JsonValueKind.String } v ? v.GetString() : null;

    public static bool True(JsonElement obj, string name)
        => Get(obj, name) is { ValueKind: JsonValueKind.True };

    /// <summary>The element as an array, or an error naming the field and the tool's format.</summary>
    public static JsonElement Array(JsonElement obj, string name, string sourceName, string expected)
        => Get(obj, name) is { ValueKind: JsonValueKind.Array } v
            ? v
            : throw new InvalidDataException($"{sourceName}: '{name}' is missing or not a list; expected {expected}.");

    /// <summary>
    /// The value of the first of <paramref name="names"/> found, searched depth-first through nested objects and strings that
    /// hold JSON or a Python dict's text.
    /// </summary>
    public static int? FindCount(JsonElement element, int depth, params string[] names)
    {
        if (depth > 4)
        {
            return null;
        }

        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
            {
                foreach (var name in names)
                {
                    if (element.TryGetProperty(name, out var v))
                    {
                        // Triton takes max_tokens as a one-element array.
                        var value = v.ValueKind == JsonValueKind.Array && v.GetArrayLength() == 1 ? v[0] : v;
                        if (Count(value) is { } c)
                        {
                            return c;
                        }
                    }
                }

                foreach (var property in element.EnumerateObject())
                {
                    if (FindCount(property.Value, depth + 1, names) is { } c)
                    {
                        return c;
                    }
                }

                return null;
            }

            case JsonValueKind.String:
            {
                var s = element.GetString();
                if (s is null || s.Length < 2 || s[0] != '{')
                {
                    return null;
                }

                try
                {
                    using var inner = JsonDocument.Parse(s);
                    return FindCount(inner.RootElement, depth + 1, names);
                }
                catch (JsonException)
                {
                    // GuideLLM writes request_args as str() of a Python dict ({'body': {'max_tokens': 128, 'stop': None}}),
                    // which is no JSON: the names are found in its text instead, in the same order of preference.
                    foreach (var name in names)
                    {
                        var match = Regex.Match(s, $@"['""]{Regex.Escape(name)}['""]\s*:\s*(\d{{1,9}})\b");
                        if (match.Success)
                        {
                            return int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
                        }
                    }

                    return null;
                }
            }

            default:
                return null;
        }
    }
}
