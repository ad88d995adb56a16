using System.Text;
using System.Text.Json;

namespace LlmEff.Core.Workloads;

/// <summary>
/// JSON form of a <see cref="Workload"/>: <c>{"name": "...", "queries": [{"prompt_tokens": 512, "output_tokens": 16}, ...]}</c>,
/// or just the array of queries. Errors name the line and column (1-based).
/// </summary>
public static class WorkloadJson
{
    /// <summary>Serialises <paramref name="workload"/> (indented).</summary>
    public static string Serialize(Workload workload)
    {
        ArgumentNullException.ThrowIfNull(workload);
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("name", workload.Name);
            w.WriteStartArray("queries");
            for (var i = 0; i < workload.Count; i++)
            {
                w.WriteStartObject();
                w.WriteNumber("prompt_tokens", workload.PromptTokens[i]);
                w.WriteNumber("output_tokens", workload.OutputTokens[i]);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>Writes <paramref name="workload"/> to the JSON file at <paramref name="path"/>, replacing it.</summary>
    public static void WriteFile(Workload workload, string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        File.WriteAllText(path, Serialize(workload), new UTF8Encoding(false));
    }

    /// <summary>Reads a workload from the JSON file at <paramref name="path"/>; without a <c>name</c> it is named after the file.</summary>
    /// <exception cref="FileNotFoundException">No file there.</exception>
    /// <exception cref="InvalidDataException">Malformed JSON or an invalid query; the message gives line and column.</exception>
    public static Workload ReadFile(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"No workload JSON at '{path}'; check the path.", path);
        }

        return Deserialize(File.ReadAllText(path), Path.GetFileNameWithoutExtension(path), path);
    }

    /// <summary>Reads a workload from <paramref name="json"/>; <paramref name="defaultName"/> is used when the JSON has no name.</summary>
    public static Workload Deserialize(string json, string defaultName = "workload", string? sourceName = null)
    {
        ArgumentNullException.ThrowIfNull(json);
        var bytes = Encoding.UTF8.GetBytes(json);
        var where = sourceName ?? "workload JSON";
        try
        {
            return Parse(bytes, defaultName, where);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{where}: line {(e.LineNumber ?? 0) + 1}, column {(e.BytePositionInLine ?? 0) + 1}: malformed JSON ({e.Message})", e);
        }
    }

    private static Workload Parse(byte[] bytes, string defaultName, string where)
    {
        var reader = new Utf8JsonReader(bytes, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        Next(ref reader, bytes, where);
        string? name = null;
        List<WorkloadQuery>? queries = null;
        if (reader.TokenType == JsonTokenType.StartArray)
        {
            queries = ReadQueries(ref reader, bytes, where);
        }
        else if (reader.TokenType == JsonTokenType.StartObject)
        {
            while (Next(ref reader, bytes, where) != JsonTokenType.EndObject)
            {
                var property = reader.GetString();
                if ((property == "queries" && queries is not null) || (property == "name" && name is not null))
                {
                    throw Error(bytes, reader, where, $"'{property}' is given twice; give it once (the second would replace the first without a word)");
                }

                Next(ref reader, bytes, where);
                switch (property)
                {
                    case "name" when reader.TokenType == JsonTokenType.String:
                        name = reader.GetString();
                        break;
                    case "queries" when reader.TokenType == JsonTokenType.StartArray:
                        queries = ReadQueries(ref reader, bytes, where);
                        break;
                    case "name" or "queries":
                        throw Error(bytes, reader, where, $"'{property}' must be {(property == "name" ? "a string" : "an array of queries")}, not {reader.TokenType}");
                    default:
                        reader.Skip();
                        break;
                }
            }
        }
        else
        {
            throw Error(bytes, reader, where, "expected an object with \"queries\" or an array of queries");
        }

        // One workload per file: a second one pasted below, or stray text, is refused rather than dropped (the reader
        // throws at content after the value; whitespace and comments end the file).
        if (reader.Read())
        {
            throw Error(bytes, reader, where, "unexpected content after the workload; give one workload per file");
        }

        if (queries is null || queries.Count == 0)
        {
            throw new InvalidDataException($"{where}: no queries; give \"queries\": [{{\"prompt_tokens\": p, \"output_tokens\": o}}, ...].");
        }

        return new Workload(string.IsNullOrWhiteSpace(name) ? defaultName : name, queries);
    }

    private static List<WorkloadQuery> ReadQueries(ref Utf8JsonReader reader, byte[] bytes, string where)
    {
        var queries = new List<WorkloadQuery>();
        while (Next(ref reader, bytes, where) != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                throw Error(bytes, reader, where, "each query must be an object {\"prompt_tokens\": p, \"output_tokens\": o}");
            }

            var start = reader;
            int? p = null, o = null;
            while (Next(ref reader, bytes, where) != JsonTokenType.EndObject)
            {
                var property = reader.GetString();
                if ((property == "prompt_tokens" && p is not null) || (property == "output_tokens" && o is not null))
                {
                    throw Error(bytes, reader, where, $"'{property}' is given twice in one query; give it once");
                }

                Next(ref reader, bytes, where);
                switch (property)
                {
                    case "prompt_tokens":
                        p = Integer(ref reader, bytes, where, property, minimum: 0);
                        break;
                    case "output_tokens":
                        o = Integer(ref reader, bytes, where, property, minimum: 1);
                        break;
                    default:
                        reader.Skip();
                        break;
                }
            }

            if (p is null || o is null)
            {
                throw Error(bytes, start, where, $"query {queries.Count} lacks \"{(p is null ? "prompt_tokens" : "output_tokens")}\"");
            }

            queries.Add(new WorkloadQuery(p.Value, o.Value));
        }

        return queries;
    }

    private static int Integer(ref Utf8JsonReader reader, byte[] bytes, string where, string property, int minimum)
    {
        if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt32(out var value))
        {
            throw Error(bytes, reader, where, $"\"{property}\" must be a whole number of tokens");
        }

        if (value < minimum)
        {
            throw Error(bytes, reader, where, $"\"{property}\" = {value} is below {minimum}; {(minimum == 0 ? "prompt sizes are 0 or more" : "a query generates at least 1 token")}");
        }

        return value;
    }

    private static JsonTokenType Next(ref Utf8JsonReader reader, byte[] bytes, string where)
    {
        if (!reader.Read())
        {
            throw Error(bytes, reader, where, "unexpected end of JSON");
        }

        return reader.TokenType;
    }

    // Utf8JsonReader exposes only a byte offset, so count lines up to it for the message.
    private static InvalidDataException Error(byte[] bytes, Utf8JsonReader reader, string where, string message)
    {
        var offset = (int)Math.Min(reader.TokenStartIndex, bytes.Length);
        int line = 1, lineStart = 0;
        for (var i = 0; i < offset; i++)
        {
            if (bytes[i] == (byte)'\n')
            {
                line++;
                lineStart = i + 1;
            }
        }

        return new InvalidDataException($"{where}: line {line}, column {offset - lineStart + 1}: {message}.");
    }
}
