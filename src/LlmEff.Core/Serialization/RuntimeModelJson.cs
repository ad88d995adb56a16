using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace LlmEff.Core.Serialization;

/// <summary>
/// Reads and writes <see cref="RuntimeModel"/>s as JSON. The schema is identified by
/// <c>"schema": "llmeff.runtime-model"</c> and an integer <c>"schemaVersion"</c>; property names are
/// snake_case and stable within a version. See <c>docs/runtime-model.md</c> for the layout.
/// </summary>
public static partial class RuntimeModelJson
{
    /// <summary>The schema identifier written to every file.</summary>
    public const string SchemaName = "llmeff.runtime-model";

    /// <summary>
    /// The newest schema version this library writes and reads: 2 added <c>context_knee_tokens</c> (the hinge decode). A
    /// model without a knee is written as version 1, which earlier LlmEff versions read unchanged; one with a knee as
    /// version 2, which they refuse ("upgrade") rather than read without its knee and mispredict.
    /// </summary>
    public const int SchemaVersion = 2;

    private const int FirstSchemaVersion = 1;

    /// <summary>Serialises <paramref name="model"/> to indented JSON.</summary>
    public static string Serialize(RuntimeModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return JsonSerializer.Serialize(ToDto(model), RuntimeModelJsonContext.Default.RuntimeModelDto);
    }

    /// <summary>Reads a model from JSON written by <see cref="Serialize"/>, with the checks of <see cref="RuntimeModel.Create(PiecewiseLinearFunction, double, double, RuntimeModelMetadata?)"/>.</summary>
    /// <exception cref="InvalidDataException">
    /// Empty, truncated or foreign JSON, another schema version, a missing or mistyped field, or a value that is not
    /// physical; the message names the field and the fix.
    /// </exception>
    public static RuntimeModel Deserialize(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        if (string.IsNullOrWhiteSpace(json))
        {
            throw new InvalidDataException("The runtime-model JSON is empty; pass a file written by 'llmeff fit --output' or RuntimeModel.ToJson().");
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json);
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException(
                string.Create(CultureInfo.InvariantCulture, $"Not valid JSON at line {(ex.LineNumber ?? 0) + 1}, byte {(ex.BytePositionInLine ?? 0) + 1}: the file is truncated, binary or not JSON; write it again with 'llmeff fit --output' or RuntimeModel.ToJson()."),
                ex);
        }

        using (document)
        {
            try
            {
                JsonDuplicateKeys.Check(document.RootElement);
            }
            catch (JsonException ex)
            {
                throw new InvalidDataException($"{ex.Message} Write the file again with 'llmeff fit --output' or RuntimeModel.ToJson().", ex);
            }

            CheckSchema(document.RootElement);
            CheckRequiredFields(document.RootElement);
        }

        RuntimeModelDto? dto;
        try
        {
            dto = JsonSerializer.Deserialize(json, RuntimeModelJsonContext.Default.RuntimeModelDto);
        }
        catch (JsonException ex)
        {
            var field = (ex.Path ?? "$").TrimStart('$').TrimStart('.');
            throw new InvalidDataException(
                string.Create(CultureInfo.InvariantCulture, $"The runtime-model field '{(field.Length == 0 ? "(root)" : field)}' (line {(ex.LineNumber ?? 0) + 1}) has a value of the wrong type: numbers are JSON numbers (0.05, not \"0.05\"), token counts integers, and enums one of their names; see docs/runtime-model.md for the layout."),
                ex);
        }

        return FromDto(dto!);
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
            throw new InvalidDataException($"A runtime-model JSON document is an object, but this one is {Describe(root)}; pass a file written by 'llmeff fit --output' or RuntimeModel.ToJson().");
        }

        var schema = root.TryGetProperty("schema", out var s) && s.ValueKind == JsonValueKind.String ? s.GetString() : null;
        if (schema != SchemaName)
        {
            throw new InvalidDataException(schema == Batching.BatchedRuntimeModel.JsonSchemaName
                ? $"Expected \"schema\": \"{SchemaName}\" but found \"{schema}\": this is a batched runtime model, read by BatchedRuntimeModel.FromJson (in the CLI, estimate with --batch B or plot batching)."
                : $"Expected \"schema\": \"{SchemaName}\" but found {(schema is null ? "none" : $"\"{schema}\"")}; this file is not an LlmEff runtime model (a workload, energy model or HELM table goes to another option).");
        }

        if (!root.TryGetProperty("schema_version", out var v))
        {
            throw new InvalidDataException($"The runtime-model JSON has no \"schema_version\"; add \"schema_version\": {SchemaVersion} if it was written for this schema.");
        }

        if (v.ValueKind == JsonValueKind.String)
        {
            var text = v.GetString();
            var meant = int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : SchemaVersion;
            throw new InvalidDataException($"\"schema_version\" is the string \"{text}\"; it is a number: write \"schema_version\": {meant} (no quotes).");
        }

        if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt32(out var version))
        {
            throw new InvalidDataException($"\"schema_version\" is {Describe(v)}; it is an integer: write \"schema_version\": {SchemaVersion}.");
        }

        if (version is < FirstSchemaVersion or > SchemaVersion)
        {
            throw new InvalidDataException(
                $"Runtime-model schema_version {version} is not supported: this LlmEff reads versions {FirstSchemaVersion} to {SchemaVersion}. " +
                (version > SchemaVersion ? "Upgrade the LlmEff package to read it." : "Re-fit or convert the model with the LlmEff version that wrote it."));
        }

        if (version < 2 && root.TryGetProperty("context_knee_tokens", out _))
        {
            throw new InvalidDataException($"\"context_knee_tokens\" belongs to schema_version 2, but this file says {version}; write \"schema_version\": 2 (a version-1 reader would drop the knee and mispredict).");
        }
    }

    // The serializer would quietly read a missing number as 0 (g = 0, PE = 0), so the fields a model cannot do without are checked first.
    private static void CheckRequiredFields(JsonElement root)
    {
        if (!root.TryGetProperty("prompt_encoding", out var pe) || pe.ValueKind != JsonValueKind.Array || pe.GetArrayLength() == 0)
        {
            throw new InvalidDataException("The runtime-model JSON has no prompt_encoding knots; it needs \"prompt_encoding\": [ { \"prompt_tokens\": 512, \"seconds\": 0.1 }, ... ] (write it with RuntimeModel.ToJson()).");
        }

        var i = 0;
        foreach (var knot in pe.EnumerateArray())
        {
            if (knot.ValueKind != JsonValueKind.Object || !IsNumber(knot, "prompt_tokens") || !IsNumber(knot, "seconds"))
            {
                throw new InvalidDataException($"prompt_encoding[{i}] is {Describe(knot)}; each knot is {{ \"prompt_tokens\": <number>, \"seconds\": <number> }}.");
            }

            i++;
        }

        if (!IsNumber(root, "per_output_token_seconds"))
        {
            throw new InvalidDataException($"The runtime-model JSON has no numeric per_output_token_seconds ({(root.TryGetProperty("per_output_token_seconds", out var g) ? Describe(g) : "missing")}); add g in seconds, e.g. \"per_output_token_seconds\": 0.03.");
        }
    }

    private static bool IsNumber(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number;

    private static string Describe(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.String => $"the string \"{Truncate(e.GetString())}\"",
        JsonValueKind.Number => $"the number {e.GetRawText()}",
        JsonValueKind.Array => "an array",
        JsonValueKind.Object => "an object",
        JsonValueKind.Null => "null",
        JsonValueKind.True or JsonValueKind.False => $"the boolean {e.GetRawText()}",
        _ => "missing",
    };

    private static string Truncate(string? text) => text is null ? string.Empty : text.Length <= 40 ? text : text[..40] + "...";

    private static RuntimeModelDto ToDto(RuntimeModel m) => new()
    {
        Schema = SchemaName,
        SchemaVersion = m.ContextKneeTokens == 0 ? FirstSchemaVersion : SchemaVersion,
        PromptEncoding = m.PromptEncoding.Knots.Select(k => new KnotDto { PromptTokens = k.X, Seconds = k.Y }).ToList(),
        PerOutputTokenSeconds = m.PerOutputTokenSeconds,
        PerOutputTokenContextSeconds = m.PerOutputTokenContextSeconds == 0 ? null : m.PerOutputTokenContextSeconds,
        ContextKneeTokens = m.ContextKneeTokens == 0 ? null : m.ContextKneeTokens,
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
        Warnings = m.Warnings.Count == 0 ? null : m.Warnings.Select(w => new WarningDto { Kind = w.Kind, Message = w.Message, LikelyCause = w.LikelyCause, NextMeasurement = w.NextMeasurement }).ToList(),
    };

    private static ResidualDto ToDto(SampleResidual r) => new()
    {
        PromptTokens = r.PromptTokens,
        OutputTokens = r.OutputTokens,
        ObservedSeconds = r.ObservedSeconds,
        PredictedSeconds = r.PredictedSeconds,
    };

    private static RuntimeModel FromDto(RuntimeModelDto d)
    {
        PiecewiseLinearFunction pe;
        try
        {
            pe = new PiecewiseLinearFunction(d.PromptEncoding!.Select(k => new PiecewiseLinearKnot(k.PromptTokens, k.Seconds)));
        }
        catch (ArgumentException ex)
        {
            throw new InvalidDataException($"prompt_encoding: {OneLine(ex)}", ex);
        }

        var warnings = d.Warnings?.Select(w => new RuntimeFitWarning(w.Kind, w.Message ?? string.Empty, w.LikelyCause ?? string.Empty, w.NextMeasurement ?? string.Empty)).ToArray();
        try
        {
            RuntimeModelPhysics.ValidateParameters(
                pe,
                d.PerOutputTokenSeconds,
                d.PerOutputTokenContextSeconds ?? 0,
                d.OverheadSeconds,
                d.PromptEncodingMode ?? PromptEncodingMode.Interpolate,
                // Only a fit that kept what it found non-physical, and says so in its warnings, may carry such values.
                keptNonPhysical: d.Aggregation is not null && warnings is not null && warnings.Any(w => w.Kind is RuntimeFitWarningKind.NonPositiveDecodeTime or RuntimeFitWarningKind.NegativePromptEncoding),
                contextKneeTokens: d.ContextKneeTokens ?? 0);
        }
        catch (ArgumentException ex)
        {
            var field = ex.ParamName switch
            {
                "perOutputTokenSeconds" => "per_output_token_seconds",
                "perOutputTokenContextSeconds" => "per_output_token_context_seconds",
                "contextKneeTokens" => "context_knee_tokens",
                "overheadSeconds" => "overhead_seconds",
                "promptEncodingMode" => "prompt_encoding_mode",
                _ => "prompt_encoding",
            };
            throw new InvalidDataException($"{field}: {OneLine(ex)} Fix the value or re-fit the model ('llmeff fit').", ex);
        }

        // Provenance prices and counts: checked here, where the file is named, rather than when a cost is first computed.
        if (d.Metadata?.AcceleratorCount is < 1)
        {
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"metadata.accelerator_count: {d.Metadata.AcceleratorCount} accelerators; a model is served by 1 or more: fix the value or remove it."));
        }

        if (d.Metadata?.AcceleratorHourlyPriceUsd is { } price && !(double.IsFinite(price) && price >= 0))
        {
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"metadata.accelerator_hourly_price_usd: {price} is no hourly price; give a finite number of dollars, 0 or more, or remove it."));
        }

        if (d.RSquared is { } r2 && !(r2 <= 1))
        {
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"r_squared: {r2} is above 1, which no fit gives (R² is at most 1); the file was edited or is not a fit: re-fit the model or remove r_squared."));
        }

        var fits = d.PromptSizeFits?.Select((f, i) =>
        {
            if (f.PromptTokens < 0 || f.SampleCount < 0 || f.DistinctOutputLengths < 0 || !(f.RSquared <= 1) || !double.IsFinite(f.InterceptSeconds) || !double.IsFinite(f.SlopeSecondsPerToken))
            {
                throw new InvalidDataException($"prompt_size_fits[{i}] is not a fit's diagnostics (negative counts or prompt size, R² above 1, or non-finite line); re-fit the model or remove prompt_size_fits.");
            }

            return new PromptSizeFit(
                f.PromptTokens,
                f.InterceptSeconds,
                f.SlopeSecondsPerToken,
                f.RSquared,
                f.SampleCount,
                f.DistinctOutputLengths,
                (f.Residuals ?? []).Select((r, j) => FromDto(r, $"prompt_size_fits[{i}].residuals[{j}]")).ToArray());
        }).ToArray();
        var model = new RuntimeModel(
            pe,
            d.PerOutputTokenSeconds,
            d.OverheadSeconds,
            d.RSquared ?? double.NaN,
            fits,
            d.Residuals?.Select((r, i) => FromDto(r, $"residuals[{i}]")).ToArray(),
            d.Aggregation,
            d.Metadata,
            d.PerOutputTokenContextSeconds ?? 0,
            d.PromptEncodingMode ?? PromptEncodingMode.Interpolate,
            warnings,
            d.ContextKneeTokens ?? 0);

        // The values are each valid; together they may still make a step or a query take less than no time within the
        // profiled range (a falling context slope, say): Create refuses the same. A kept fit names that in its warnings;
        // any other file is refused.
        var kept = warnings?.Select(w => w.Kind).ToHashSet() ?? [];
        if (RuntimeModelPhysics.FirstGivenProblem(model, kept) is { } problem)
        {
            throw new InvalidDataException($"{problem.Message} Fix the values or re-fit the model ('llmeff fit').");
        }

        return model;
    }

    private static SampleResidual FromDto(ResidualDto r, string where)
        => r.PromptTokens >= 0 && r.OutputTokens >= 1 && double.IsFinite(r.ObservedSeconds) && double.IsFinite(r.PredictedSeconds)
            ? new SampleResidual(r.PromptTokens, r.OutputTokens, r.ObservedSeconds, r.PredictedSeconds)
            : throw new InvalidDataException($"{where} is not a sample (needs prompt_tokens >= 0, output_tokens >= 1 and finite seconds); re-fit the model or remove the residuals.");

    // ArgumentException appends "(Parameter 'x')" and the actual value on another line; a file's reader needs one sentence.
    private static string OneLine(ArgumentException ex)
    {
        var m = ex.Message;
        var cut = m.IndexOf(" (Parameter '", StringComparison.Ordinal);
        m = cut >= 0 ? m[..cut] : m;
        var newline = m.IndexOfAny(['\r', '\n']);
        return newline >= 0 ? m[..newline] : m;
    }
}

[JsonSourceGenerationOptions(
    WriteIndented = true,
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UseStringEnumConverter = true)]
[JsonSerializable(typeof(RuntimeModelJson.RuntimeModelDto))]
internal sealed partial class RuntimeModelJsonContext : JsonSerializerContext;
