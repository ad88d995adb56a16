using System.Text.Json;
using System.Text.Json.Serialization;

namespace LlmEff.Core.Serialization;

/// <summary>
/// Reads and writes <see cref="RuntimeModel"/>s as JSON. The schema is identified by
/// <c>"schema": "llmeff.runtime-model"</c> and an integer <c>"schemaVersion"</c>; property names are
/// snake_case and stable within a version. See <c>docs/runtime-model.md</c> for the layout.
/// </summary>
public static class RuntimeModelJson
{
    /// <summary>The schema identifier written to every file.</summary>
    public const string SchemaName = "llmeff.runtime-model";

    /// <summary>The schema version this library writes and reads.</summary>
    public const int SchemaVersion = 1;

    /// <summary>Serialises <paramref name="model"/> to indented JSON.</summary>
    public static string Serialize(RuntimeModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return JsonSerializer.Serialize(ToDto(model), RuntimeModelJsonContext.Default.RuntimeModelDto);
    }

    /// <summary>Reads a model from JSON written by <see cref="Serialize"/>.</summary>
    /// <exception cref="InvalidDataException">Malformed JSON, another schema, or another schema version.</exception>
    public static RuntimeModel Deserialize(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        RuntimeModelDto? dto;
        try
        {
            using (var doc = JsonDocument.Parse(json))
            {
                CheckSchema(doc.RootElement);
            }

            dto = JsonSerializer.Deserialize(json, RuntimeModelJsonContext.Default.RuntimeModelDto);
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"Not a valid LlmEff runtime-model JSON document: {ex.Message}", ex);
        }

        if (dto?.PromptEncoding is not { Count: > 0 })
        {
            throw new InvalidDataException("The runtime-model JSON has no prompt_encoding knots; write it with RuntimeModel.ToJson().");
        }

        return FromDto(dto);
    }

    /// <summary>Writes <paramref name="model"/> to <paramref name="path"/>.</summary>
    public static void Save(RuntimeModel model, string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        File.WriteAllText(path, Serialize(model));
    }

    /// <summary>Reads a model from the file at <paramref name="path"/>.</summary>
    /// <exception cref="FileNotFoundException">No file there.</exception>
    /// <exception cref="InvalidDataException">The file is not a runtime model of this schema version.</exception>
    public static RuntimeModel Load(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"No runtime-model file at '{path}'; check the path or create one with RuntimeModel.ToJson().", path);
        }

        try
        {
            return Deserialize(File.ReadAllText(path));
        }
        catch (InvalidDataException ex)
        {
            throw new InvalidDataException($"{path}: {ex.Message}", ex);
        }
    }

    private static void CheckSchema(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidDataException("A runtime-model JSON document must be an object.");
        }

        var schema = root.TryGetProperty("schema", out var s) && s.ValueKind == JsonValueKind.String ? s.GetString() : null;
        if (schema != SchemaName)
        {
            throw new InvalidDataException($"Expected \"schema\": \"{SchemaName}\" but found {(schema is null ? "none" : $"\"{schema}\"")}; this file is not an LlmEff runtime model.");
        }

        if (!root.TryGetProperty("schema_version", out var v) || !v.TryGetInt32(out var version))
        {
            throw new InvalidDataException("The runtime-model JSON has no integer \"schema_version\".");
        }

        if (version != SchemaVersion)
        {
            throw new InvalidDataException(
                $"Runtime-model schema_version {version} is not supported: this LlmEff reads version {SchemaVersion}. " +
                (version > SchemaVersion ? "Upgrade the LlmEff package to read it." : "Re-fit or convert the model with the LlmEff version that wrote it."));
        }
    }

    private static RuntimeModelDto ToDto(RuntimeModel m) => new()
    {
        Schema = SchemaName,
        SchemaVersion = SchemaVersion,
        PromptEncoding = m.PromptEncoding.Knots.Select(k => new KnotDto { PromptTokens = k.X, Seconds = k.Y }).ToList(),
        PerOutputTokenSeconds = m.PerOutputTokenSeconds,
        PerOutputTokenContextSeconds = m.PerOutputTokenContextSeconds == 0 ? null : m.PerOutputTokenContextSeconds,
        PromptEncodingMode = m.PromptEncodingMode == PromptEncodingMode.Interpolate ? null : m.PromptEncodingMode,
        OverheadSeconds = m.OverheadSeconds,
        RSquared = double.IsFinite(m.RSquared) ? m.RSquared : null,
        Aggregation = m.Aggregation,
        Metadata = m.Metadata,
        PromptSizeFits = m.PromptSizeFits.Count == 0 ? null : m.PromptSizeFits.Select(f => new PromptFitDto
        {
            PromptTokens = f.PromptTokens,
            InterceptSeconds = f.InterceptSeconds,
            SlopeSecondsPerToken = f.SlopeSecondsPerToken,
            RSquared = f.RSquared,
            SampleCount = f.SampleCount,
            DistinctOutputLengths = f.DistinctOutputLengths,
            Residuals = f.Residuals.Select(ToDto).ToList(),
        }).ToList(),
        Residuals = m.Residuals.Count == 0 ? null : m.Residuals.Select(ToDto).ToList(),
    };

    private static ResidualDto ToDto(SampleResidual r) => new()
    {
        PromptTokens = r.PromptTokens,
        OutputTokens = r.OutputTokens,
        ObservedSeconds = r.ObservedSeconds,
        PredictedSeconds = r.PredictedSeconds,
    };

    private static SampleResidual FromDto(ResidualDto r) => new(r.PromptTokens, r.OutputTokens, r.ObservedSeconds, r.PredictedSeconds);

    private static RuntimeModel FromDto(RuntimeModelDto d)
    {
        var pe = new PiecewiseLinearFunction(d.PromptEncoding!.Select(k => new PiecewiseLinearKnot(k.PromptTokens, k.Seconds)));
        if (!double.IsFinite(d.PerOutputTokenSeconds) || !double.IsFinite(d.OverheadSeconds) || !double.IsFinite(d.PerOutputTokenContextSeconds ?? 0))
        {
            throw new InvalidDataException("per_output_token_seconds and overhead_seconds must be finite numbers.");
        }

        var fits = d.PromptSizeFits?.Select(f => new PromptSizeFit(
            f.PromptTokens,
            f.InterceptSeconds,
            f.SlopeSecondsPerToken,
            f.RSquared,
            f.SampleCount,
            f.DistinctOutputLengths,
            (f.Residuals ?? []).Select(FromDto).ToArray())).ToArray();
        return new RuntimeModel(
            pe,
            d.PerOutputTokenSeconds,
            d.OverheadSeconds,
            d.RSquared ?? double.NaN,
            fits,
            d.Residuals?.Select(FromDto).ToArray(),
            d.Aggregation,
            d.Metadata,
            d.PerOutputTokenContextSeconds ?? 0,
            d.PromptEncodingMode ?? PromptEncodingMode.Interpolate);
    }

    internal sealed class RuntimeModelDto
    {
        public string Schema { get; set; } = SchemaName;

        public int SchemaVersion { get; set; }

        public RuntimeModelMetadata? Metadata { get; set; }

        public List<KnotDto>? PromptEncoding { get; set; }

        public double PerOutputTokenSeconds { get; set; }

        public double? PerOutputTokenContextSeconds { get; set; }

        public PromptEncodingMode? PromptEncodingMode { get; set; }

        public double OverheadSeconds { get; set; }

        public double? RSquared { get; set; }

        public TrialAggregation? Aggregation { get; set; }

        public List<PromptFitDto>? PromptSizeFits { get; set; }

        public List<ResidualDto>? Residuals { get; set; }
    }

    internal sealed class KnotDto
    {
        public double PromptTokens { get; set; }

        public double Seconds { get; set; }
    }

    internal sealed class PromptFitDto
    {
        public int PromptTokens { get; set; }

        public double InterceptSeconds { get; set; }

        public double SlopeSecondsPerToken { get; set; }

        public double RSquared { get; set; }

        public int SampleCount { get; set; }

        public int DistinctOutputLengths { get; set; }

        public List<ResidualDto>? Residuals { get; set; }
    }

    internal sealed class ResidualDto
    {
        public int PromptTokens { get; set; }

        public int OutputTokens { get; set; }

        public double ObservedSeconds { get; set; }

        public double PredictedSeconds { get; set; }
    }
}

[JsonSourceGenerationOptions(
    WriteIndented = true,
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UseStringEnumConverter = true)]
[JsonSerializable(typeof(RuntimeModelJson.RuntimeModelDto))]
internal sealed partial class RuntimeModelJsonContext : JsonSerializerContext;
