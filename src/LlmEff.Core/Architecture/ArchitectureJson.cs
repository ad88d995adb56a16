using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace LlmEff.Core.Architecture;

/// <summary>
/// The JSON form of a <see cref="TransformerArchitecture"/>: an object with snake_case names (<c>hidden_size</c>,
/// <c>key_value_heads</c>, <c>ffn_hidden_size</c>...), which also accepts the C# names in any case, comments and trailing
/// commas; enums by name (<c>"ffn": "gated"</c>, <c>"norm": "rmsnorm"</c>, <c>"positions": "rotary"</c>). Unknown names are
/// refused so a typo does not silently fall back to a default. Written by hand for <c>llmeff profile torch --arch-file</c>.
/// </summary>
public static class ArchitectureJson
{
    /// <summary>A minimal architecture users can copy, shown in error messages.</summary>
    public const string Example = "{\"name\": \"tiny\", \"hidden_size\": 64, \"layers\": 2, \"heads\": 8, \"vocabulary_size\": 1000, \"max_context_tokens\": 2048}";

    private static readonly string[] Required = ["name", "hidden_size", "layers", "heads", "vocabulary_size", "max_context_tokens"];

    private static readonly string[] Optional =
        ["ffn_hidden_size", "key_value_heads", "ffn", "norm", "positions", "tied_embeddings", "linear_biases", "experts", "experts_per_token", "head_dim", "expert_ffn_hidden_size",
            "shared_experts", "shared_expert_ffn_hidden_size", "shared_expert_gate", "sliding_window_tokens", "block", "published_parameter_count", "source"];

    private static readonly JsonDocumentOptions ReadOptions = new() { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>Reads and validates the architecture in the file at <paramref name="path"/>.</summary>
    /// <exception cref="FileNotFoundException">No file there.</exception>
    /// <exception cref="InvalidDataException">Malformed JSON, an unknown or missing property, or an invalid architecture; the message starts with the path.</exception>
    public static TransformerArchitecture ReadFile(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"'{path}' does not exist; pass a JSON architecture such as {Example}.", path);
        }

        try
        {
            return Parse(File.ReadAllText(path));
        }
        catch (InvalidDataException ex)
        {
            throw new InvalidDataException($"'{path}': {ex.Message}", ex);
        }
    }

    /// <summary>Parses and validates an architecture.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="json"/> is null.</exception>
    /// <exception cref="InvalidDataException">Malformed JSON, an unknown or missing property, or an invalid architecture (the message names the property and shows an example).</exception>
    public static TransformerArchitecture Parse(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        JsonObject root;
        try
        {
            root = JsonNode.Parse(json, documentOptions: ReadOptions) as JsonObject
                ?? throw new InvalidDataException($"The architecture is not a JSON object; expected an object such as {Example}.");

            // Checked after the parse, so a syntax error keeps its own position. Names match in any case and with or
            // without underscores here, so "layers" and "Layers" are one property twice.
            Serialization.JsonDuplicateKeys.Check(json, ReadOptions, Key);
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"Not valid JSON: {ex.Message} Expected an object such as {Example}.", ex);
        }

        // snake_case or C# names, any case: compare without underscores, lower case.
        var values = new Dictionary<string, JsonNode?>(StringComparer.Ordinal);
        foreach (var (name, value) in root)
        {
            var known = Required.Concat(Optional).FirstOrDefault(k => Key(k) == Key(name))
                ?? throw new InvalidDataException($"$.{name}: unknown property; known are {string.Join(", ", Required.Concat(Optional))}.");
            values[known] = value;
        }

        var missing = Required.Where(r => !values.ContainsKey(r)).ToList();
        if (missing.Count > 0)
        {
            throw new InvalidDataException($"missing {string.Join(", ", missing.Select(m => $"\"{m}\""))}; expected an object such as {Example}.");
        }

        var name0 = Get<string>(values, "name");
        if (string.IsNullOrWhiteSpace(name0))
        {
            throw new InvalidDataException($"$.name: the architecture needs a non-empty name; expected an object such as {Example}.");
        }

        var architecture = new TransformerArchitecture(name0, Get<int>(values, "hidden_size"), Get<int>(values, "layers"), Get<int>(values, "heads"), Get<int>(values, "vocabulary_size"), Get<int>(values, "max_context_tokens"));
        try
        {
            architecture = architecture with
            {
                FfnHiddenSize = values.ContainsKey("ffn_hidden_size") ? Get<int>(values, "ffn_hidden_size") : architecture.FfnHiddenSize,
                KeyValueHeads = values.ContainsKey("key_value_heads") ? Get<int>(values, "key_value_heads") : architecture.KeyValueHeads,
                Ffn = values.ContainsKey("ffn") ? GetEnum<FfnKind>(values, "ffn") : architecture.Ffn,
                Norm = values.ContainsKey("norm") ? GetEnum<NormKind>(values, "norm") : architecture.Norm,
                Positions = values.ContainsKey("positions") ? GetEnum<PositionalScheme>(values, "positions") : architecture.Positions,
                TiedEmbeddings = values.ContainsKey("tied_embeddings") ? Get<bool>(values, "tied_embeddings") : architecture.TiedEmbeddings,
                LinearBiases = values.ContainsKey("linear_biases") ? Get<bool>(values, "linear_biases") : architecture.LinearBiases,
                Experts = values.ContainsKey("experts") ? Get<int>(values, "experts") : architecture.Experts,
                ExpertsPerToken = values.ContainsKey("experts_per_token") ? Get<int>(values, "experts_per_token") : architecture.ExpertsPerToken,
                SharedExperts = values.ContainsKey("shared_experts") ? Get<int>(values, "shared_experts") : architecture.SharedExperts,
                SharedExpertGate = values.ContainsKey("shared_expert_gate") ? Get<bool>(values, "shared_expert_gate") : architecture.SharedExpertGate,
                SlidingWindowTokens = values.ContainsKey("sliding_window_tokens") ? Get<int?>(values, "sliding_window_tokens") : null,
                Block = values.ContainsKey("block") ? GetEnum<BlockLayout>(values, "block") : architecture.Block,
                PublishedParameterCount = values.ContainsKey("published_parameter_count") ? Get<long?>(values, "published_parameter_count") : null,
                Source = values.ContainsKey("source") ? Get<string?>(values, "source") : null,
            };
            if (values.ContainsKey("head_dim"))
            {
                architecture = architecture with { HeadDim = Get<int>(values, "head_dim") };
            }

            if (values.ContainsKey("expert_ffn_hidden_size"))
            {
                architecture = architecture with { ExpertFfnHiddenSize = Get<int>(values, "expert_ffn_hidden_size") };
            }

            if (values.ContainsKey("shared_expert_ffn_hidden_size"))
            {
                architecture = architecture with { SharedExpertFfnHiddenSize = Get<int>(values, "shared_expert_ffn_hidden_size") };
            }

            return architecture.Validate();
        }
        catch (ArgumentException ex)
        {
            // Validate names the record's property (Layers); the reader of a file needs its JSON key ($.layers).
            var key = ex.ParamName is { Length: > 0 } p ? JsonNamingPolicy.SnakeCaseLower.ConvertName(p) : null;
            var message = ex.ParamName is { } param ? ex.Message.Replace($" (Parameter '{param}')", string.Empty, StringComparison.Ordinal) : ex.Message;
            // ArgumentOutOfRangeException adds "Actual value was ..." on a line of its own; the value is in the message already.
            var actual = message.IndexOf(Environment.NewLine + "Actual value was", StringComparison.Ordinal);
            message = actual >= 0 ? message[..actual] : message;
            throw new InvalidDataException(key is not null && Required.Concat(Optional).Contains(key, StringComparer.Ordinal) ? $"$.{key}: {message}" : message, ex);
        }
    }

    /// <summary>The architecture as indented JSON with snake_case names, every property written; <see cref="Parse"/> reads it back.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="architecture"/> is null.</exception>
    public static string Serialize(TransformerArchitecture architecture)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        var root = new JsonObject
        {
            ["name"] = architecture.Name,
            ["hidden_size"] = architecture.HiddenSize,
            ["layers"] = architecture.Layers,
            ["heads"] = architecture.Heads,
            ["vocabulary_size"] = architecture.VocabularySize,
            ["max_context_tokens"] = architecture.MaxContextTokens,
            ["ffn_hidden_size"] = architecture.FfnHiddenSize,
            ["key_value_heads"] = architecture.KeyValueHeads,
            ["ffn"] = architecture.Ffn.ToString(),
            ["norm"] = architecture.Norm.ToString(),
            ["positions"] = architecture.Positions.ToString(),
            ["tied_embeddings"] = architecture.TiedEmbeddings,
            ["linear_biases"] = architecture.LinearBiases,
            ["experts"] = architecture.Experts,
            ["experts_per_token"] = architecture.ExpertsPerToken,
        };
        // The newer shape fields are written only where they say something, so files of dense full-attention models keep their old form.
        if (architecture.HeadDim * architecture.Heads != architecture.HiddenSize)
        {
            root["head_dim"] = architecture.HeadDim;
        }

        if (architecture.Block != BlockLayout.Sequential)
        {
            root["block"] = architecture.Block == BlockLayout.Parallel ? "parallel" : "parallel_shared_norm";
        }

        if (architecture.IsMixtureOfExperts && architecture.ExpertFfnHiddenSize != architecture.FfnHiddenSize)
        {
            root["expert_ffn_hidden_size"] = architecture.ExpertFfnHiddenSize;
        }

        if (architecture.SharedExperts > 0)
        {
            root["shared_experts"] = architecture.SharedExperts;
            root["shared_expert_ffn_hidden_size"] = architecture.SharedExpertFfnHiddenSize;
            root["shared_expert_gate"] = architecture.SharedExpertGate;
        }

        if (architecture.SlidingWindowTokens is { } window)
        {
            root["sliding_window_tokens"] = window;
        }

        if (architecture.PublishedParameterCount is { } published)
        {
            root["published_parameter_count"] = published;
        }

        if (architecture.Source is { } source)
        {
            root["source"] = source;
        }

        return root.ToJsonString(Indented);
    }

    private static string Key(string name) => name.Replace("_", string.Empty, StringComparison.Ordinal).ToLowerInvariant();

    private static T Get<T>(Dictionary<string, JsonNode?> values, string name)
    {
        var node = values[name];
        if (node is null)
        {
            return default(T) is null ? default! : throw new InvalidDataException($"$.{name}: null is not allowed; give a {typeof(T).Name.ToLowerInvariant()}.");
        }

        try
        {
            return node.GetValue<T>();
        }
        catch (Exception ex) when (ex is FormatException or InvalidOperationException)
        {
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"$.{name}: {node.ToJsonString()} is not a valid {Nullable.GetUnderlyingType(typeof(T))?.Name ?? typeof(T).Name}."), ex);
        }
    }

    private static TEnum GetEnum<TEnum>(Dictionary<string, JsonNode?> values, string name)
        where TEnum : struct, Enum
    {
        var text = Get<string>(values, name);
        // Any case, with or without underscores: "parallel_shared_norm", "ParallelSharedNorm", "rmsnorm".
        return Enum.TryParse<TEnum>(text.Replace("_", string.Empty, StringComparison.Ordinal), ignoreCase: true, out var value) && Enum.IsDefined(value) && !char.IsDigit(text[0])
            ? value
            : throw new InvalidDataException($"$.{name}: '{text}' is not one of {string.Join(", ", Enum.GetNames<TEnum>().Select(n => n.ToLowerInvariant()))}.");
    }
}
