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
    /// <param name="comparer">How names compare: ordinal, or ignoring case for readers that match names that way.</param>
    public static void Check(string json, JsonDocumentOptions options = default, StringComparer? comparer = null)
    {
        using var document = JsonDocument.Parse(json, options);
        Walk(document.RootElement, "$", comparer ?? StringComparer.Ordinal);
    }

    private static void Walk(JsonElement element, string path, StringComparer comparer)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                var seen = new HashSet<string>(comparer);
                foreach (var property in element.EnumerateObject())
                {
                    if (!seen.Add(property.Name))
                    {
                        throw new JsonException($"{path} names \"{property.Name}\" twice; give each property once.");
                    }

                    Walk(property.Value, $"{path}.{property.Name}", comparer);
                }

                break;
            case JsonValueKind.Array:
                var i = 0;
                foreach (var item in element.EnumerateArray())
                {
                    Walk(item, $"{path}[{i++}]", comparer);
                }

                break;
        }
    }
}
