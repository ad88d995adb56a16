using System.Text.Json;

namespace LlmEff.Core.Serialization;

/// <summary>
/// Refuses JSON that names a property twice in one object. The readers would otherwise keep the last value without a
/// word, or fail deep inside JsonNode with a message that names neither the file nor the fix.
/// </summary>
internal static class JsonDuplicateKeys
{
    /// <summary>Throws <see cref="JsonException"/> naming the first repeated property and where it is; valid JSON otherwise passes.</summary>
    /// <param name="json">The text, already known to parse or about to be parsed (a parse error is thrown as the parser's).</param>
    /// <param name="options">The parser's options (comments, trailing commas, depth), as the reader uses them.</param>
    /// <param name="key">What makes two names the same for the reader (e.g. case and underscores ignored); null: the names as written.</param>
    public static void Check(string json, JsonDocumentOptions options = default, Func<string, string>? key = null)
    {
        using var document = JsonDocument.Parse(json, options);
        Check(document.RootElement, key);
    }

    /// <summary>As <see cref="Check(string, JsonDocumentOptions, Func{string, string}?)"/>, on a document a reader has parsed already.</summary>
    public static void Check(JsonElement root, Func<string, string>? key = null) => Walk(root, "$", key ?? (name => name));

    private static void Walk(JsonElement element, string path, Func<string, string> key)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                var seen = new HashSet<string>(StringComparer.Ordinal);
                foreach (var property in element.EnumerateObject())
                {
                    if (!seen.Add(key(property.Name)))
                    {
                        throw new JsonException($"{path} names \"{property.Name}\" twice; give each property once.");
                    }

                    Walk(property.Value, $"{path}.{property.Name}", key);
                }

                break;
            case JsonValueKind.Array:
                var i = 0;
                foreach (var item in element.EnumerateArray())
                {
                    Walk(item, $"{path}[{i++}]", key);
                }

                break;
        }
    }
}
