using System.Text.Json;
using System.Text.Json.Serialization;
using LlmEff.Core.Architecture;

namespace LlmEff.Cli.Profiling;

/// <summary>
/// Reads a <see cref="TransformerArchitecture"/> from JSON for <c>profile torch --arch-file</c> (Core has no JSON form of
/// it). Property names are snake_case (<c>hidden_size</c>, <c>key_value_heads</c>, <c>ffn_hidden_size</c>...) or the C#
/// names, any case; enums by name (<c>"ffn": "gated"</c>, <c>"norm": "rmsnorm"</c>, <c>"positions": "rotary"</c>).
/// </summary>
internal static class ArchitectureJson
{
    private static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        PropertyNameCaseInsensitive = true,
        RespectRequiredConstructorParameters = true,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        Converters = { new JsonStringEnumConverter() },
    };

    /// <summary>An example users can copy, shown in error messages.</summary>
    public const string Example = "{\"name\": \"tiny\", \"hidden_size\": 64, \"layers\": 2, \"heads\": 8, \"vocabulary_size\": 1000, \"max_context_tokens\": 2048}";

    /// <summary>Reads and validates the architecture in <paramref name="path"/>.</summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="InvalidDataException">Malformed JSON, unknown or missing properties, or an invalid architecture.</exception>
    public static TransformerArchitecture ReadFile(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"--arch-file: '{path}' does not exist; pass a JSON architecture such as {Example}.", path);
        }

        return Parse(File.ReadAllText(path), path);
    }

    /// <summary>Parses <paramref name="json"/>; <paramref name="origin"/> names it in errors.</summary>
    public static TransformerArchitecture Parse(string json, string origin)
    {
        TransformerArchitecture? architecture;
        try
        {
            architecture = JsonSerializer.Deserialize<TransformerArchitecture>(json, Options);
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"--arch-file '{origin}': {ex.Message} Expected an object such as {Example}.", ex);
        }

        if (architecture is null || string.IsNullOrWhiteSpace(architecture.Name))
        {
            throw new InvalidDataException($"--arch-file '{origin}': the architecture needs a non-empty \"name\"; expected an object such as {Example}.");
        }

        try
        {
            return architecture.Validate();
        }
        catch (ArgumentException ex)
        {
            throw new InvalidDataException($"--arch-file '{origin}': {ex.Message}", ex);
        }
    }
}
