using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace LlmEff.Core.Energy;

/// <summary>
/// The one JSON form of an <see cref="EnergyModel"/>, identified by <c>"kind": "llmeff.energy-model"</c> and an integer
/// <c>"schema_version"</c>; snake_case names with the unit in each (<c>prompt_encoding_joules</c>,
/// <c>per_output_token_joules</c>, <c>idle_power_watts</c>...). Written by the Torch profiler and <c>llmeff fit</c>, read by
/// <c>llmeff estimate</c>. docs/metrics.md shows the layout.
/// </summary>
public static class EnergyModelJson
{
    /// <summary>The <c>kind</c> written to every file.</summary>
    public const string Kind = "llmeff.energy-model";

    /// <summary>
    /// The schema version this library writes and reads. Version 1 (<c>"schema": "llmeff.energy-model"</c>) held a runtime
    /// model whose seconds were joules; it is refused with a message saying so.
    /// </summary>
    public const int SchemaVersion = 2;

    /// <summary>The file name ending of an energy model stored beside a runtime model: <c>X.json</c> → <c>X.energy.json</c>.</summary>
    public const string CompanionSuffix = ".energy.json";

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>Serialises <paramref name="model"/> to indented JSON.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="model"/> is null.</exception>
    public static string Serialize(EnergyModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var m = model.Metadata;
        var metadata = new JsonObject();
        AddText(metadata, "model_name", m.ModelName);
        AddText(metadata, "hardware", m.Hardware);
        AddText(metadata, "software", m.Software);
        AddText(metadata, "source", m.Source);
        AddText(metadata, "measured_utc", m.MeasuredUtc?.ToString("O", CultureInfo.InvariantCulture));
        AddText(metadata, "notes", m.Notes);
        var root = new JsonObject
        {
            ["kind"] = Kind,
            ["schema_version"] = SchemaVersion,
            ["metadata"] = metadata,
            ["accelerator_count"] = model.AcceleratorCount,
        };
        AddNumber(root, "idle_power_watts", model.IdlePowerWatts);
        AddNumber(root, "board_power_watts", model.BoardPowerWatts);
        AddNumber(root, "counter_resolution_joules", model.CounterResolutionJoules);
        AddNumber(root, "counter_update_interval_seconds", model.CounterUpdateIntervalSeconds);
        root["prompt_encoding_joules"] = new JsonArray(model.PromptEncodingJoules.Knots
            .Select(k => (JsonNode)new JsonObject { ["prompt_tokens"] = (int)k.X, ["joules"] = k.Y }).ToArray());
        root["per_output_token_joules"] = model.PerOutputTokenJoules;
        AddNumber(root, "r_squared", model.RSquared);
        AddText(root, "aggregation", model.Aggregation?.ToString());
        if (model.Residuals.Count > 0)
        {
            root["residuals"] = new JsonArray(model.Residuals.Select(r => (JsonNode)new JsonObject
            {
                ["prompt_tokens"] = r.PromptTokens,
                ["output_tokens"] = r.OutputTokens,
                ["observed_joules"] = r.ObservedJoules,
                ["predicted_joules"] = r.PredictedJoules,
            }).ToArray());
        }

        return root.ToJsonString(Indented);
    }

    /// <summary>Reads a model from JSON written by <see cref="Serialize"/>.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="json"/> is null.</exception>
    /// <exception cref="InvalidDataException">Not JSON; another kind or schema version (the message names what it is and what was expected); or a missing or invalid value.</exception>
    public static EnergyModel Deserialize(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        JsonNode? node;
        try
        {
            Serialization.JsonDuplicateKeys.Check(json);
            node = JsonNode.Parse(json);
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"Not valid JSON: {ex.Message} Expected an energy model (\"kind\": \"{Kind}\", \"schema_version\": {SchemaVersion}).", ex);
        }

        if (node is not JsonObject root)
        {
            throw new InvalidDataException($"The JSON is not an object; expected an energy model (\"kind\": \"{Kind}\", \"schema_version\": {SchemaVersion}).");
        }

        CheckKind(root);
        try
        {
            var knots = Required<JsonArray>(root, "prompt_encoding_joules")
                .Select((k, i) => k is JsonObject o
                    ? new PiecewiseLinearKnot(Required<JsonValue>(o, "prompt_tokens").GetValue<int>(), Required<JsonValue>(o, "joules").GetValue<double>())
                    : throw new InvalidDataException($"prompt_encoding_joules[{i}] is not an object with prompt_tokens and joules."))
                .ToList();
            if (knots.Count == 0)
            {
                throw new InvalidDataException("prompt_encoding_joules has no knots; write the file with EnergyModel.ToJson().");
            }

            var e = Required<JsonValue>(root, "per_output_token_joules").GetValue<double>();
            var aggregation = Optional<string>(root, "aggregation") is { } a
                ? Enum.TryParse<TrialAggregation>(a, ignoreCase: true, out var parsed) && Enum.IsDefined(parsed) ? parsed : throw new InvalidDataException($"aggregation '{a}' is not one of {string.Join(", ", Enum.GetNames<TrialAggregation>())}.")
                : (TrialAggregation?)null;
            var residuals = root["residuals"] is JsonArray rs
                ? rs.Select((r, i) => r is JsonObject o
                    ? new EnergyResidual(Required<JsonValue>(o, "prompt_tokens").GetValue<int>(), Required<JsonValue>(o, "output_tokens").GetValue<int>(), Required<JsonValue>(o, "observed_joules").GetValue<double>(), Required<JsonValue>(o, "predicted_joules").GetValue<double>())
                    : throw new InvalidDataException($"residuals[{i}] is not an object.")).ToArray()
                : [];
            var model = EnergyModel.Create(knots, e);
            return model.Restore(OptionalDouble(root, "r_squared") ?? double.NaN, aggregation, residuals) with
            {
                AcceleratorCount = (root["accelerator_count"] is JsonValue n ? n.GetValue<int>() : (int?)null) ?? 1,
                IdlePowerWatts = OptionalDouble(root, "idle_power_watts"),
                BoardPowerWatts = OptionalDouble(root, "board_power_watts"),
                CounterResolutionJoules = OptionalDouble(root, "counter_resolution_joules"),
                CounterUpdateIntervalSeconds = OptionalDouble(root, "counter_update_interval_seconds"),
                Metadata = ReadMetadata(root["metadata"] as JsonObject),
            };
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or InvalidOperationException)
        {
            throw new InvalidDataException($"Invalid energy model: {ex.Message}", ex);
        }
    }

    /// <summary>Writes <paramref name="model"/> to <paramref name="path"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="path"/> is null or blank.</exception>
    public static void Save(EnergyModel model, string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        File.WriteAllText(path, Serialize(model));
    }

    /// <summary>Reads the energy model in the file at <paramref name="path"/>.</summary>
    /// <exception cref="FileNotFoundException">No file there.</exception>
    /// <exception cref="InvalidDataException">The file is not an energy model of this schema version; the message starts with the path.</exception>
    public static EnergyModel Load(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"No energy-model file at '{path}'; check the path, or write one with EnergyModelJson.Save.", path);
        }

        try
        {
            return Deserialize(File.ReadAllText(path));
        }
        catch (InvalidDataException ex)
        {
            throw new InvalidDataException($"'{path}': {ex.Message}", ex);
        }
    }

    /// <summary>The energy model stored beside a runtime-model file: <c>dir/X.json</c> → <c>dir/X.energy.json</c>.</summary>
    /// <exception cref="ArgumentException"><paramref name="runtimeModelPath"/> is null or blank.</exception>
    public static string CompanionPath(string runtimeModelPath)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(runtimeModelPath);
        return Path.ChangeExtension(runtimeModelPath, null) + CompanionSuffix;
    }

    /// <summary>The energy model beside the runtime-model file <paramref name="runtimeModelPath"/>, or null when there is none.</summary>
    /// <exception cref="InvalidDataException">The companion exists but is not an energy model of this schema version.</exception>
    public static EnergyModel? TryLoadCompanion(string runtimeModelPath)
    {
        var companion = CompanionPath(runtimeModelPath);
        return File.Exists(companion) ? Load(companion) : null;
    }

    private static void CheckKind(JsonObject root)
    {
        var expected = $"expected \"kind\": \"{Kind}\" with \"schema_version\": {SchemaVersion}";
        var kind = root["kind"] is JsonValue k && k.TryGetValue<string>(out var ks) ? ks : null;
        var schema = root["schema"] is JsonValue s && s.TryGetValue<string>(out var ss) ? ss : null;
        var version = root["schema_version"] is JsonValue v && v.TryGetValue<int>(out var vi) ? vi : (int?)null;
        if (kind is null)
        {
            var what = schema switch
            {
                Kind => $"the version-{version?.ToString(CultureInfo.InvariantCulture) ?? "1"} energy form (\"schema\": \"{Kind}\", a runtime model whose seconds are joules); re-fit it from the samples (llmeff fit, or EnergyModel.Fit)",
                "llmeff.runtime-model" => "a runtime model (\"schema\": \"llmeff.runtime-model\"), not an energy model",
                null => "a document with no \"kind\"",
                _ => $"a \"{schema}\" document",
            };
            throw new InvalidDataException($"This is not an energy model: it is {what}; {expected}.");
        }

        if (kind != Kind)
        {
            throw new InvalidDataException($"This is not an energy model: its kind is \"{kind}\"; {expected}.");
        }

        if (version != SchemaVersion)
        {
            throw new InvalidDataException($"This energy model has schema_version {version?.ToString(CultureInfo.InvariantCulture) ?? "(none)"}, which this library does not read; {expected} (update LlmEff, or re-fit the model).");
        }
    }

    private static EnergyModelMetadata ReadMetadata(JsonObject? m) => m is null ? new() : new()
    {
        ModelName = Optional<string>(m, "model_name"),
        Hardware = Optional<string>(m, "hardware"),
        Software = Optional<string>(m, "software"),
        Source = Optional<string>(m, "source"),
        MeasuredUtc = Optional<string>(m, "measured_utc") is { } t ? DateTimeOffset.Parse(t, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind) : null,
        Notes = Optional<string>(m, "notes"),
    };

    private static T Required<T>(JsonObject o, string name)
        where T : JsonNode
        => o[name] as T ?? throw new InvalidDataException($"\"{name}\" is missing or of the wrong type; write the file with EnergyModel.ToJson().");

    private static T? Optional<T>(JsonObject o, string name)
        where T : class
        => o[name] is JsonValue v ? v.GetValue<T>() : null;

    private static double? OptionalDouble(JsonObject o, string name) => o[name] is JsonValue v ? v.GetValue<double>() : null;

    private static void AddText(JsonObject o, string name, string? value)
    {
        if (value is not null)
        {
            o[name] = value;
        }
    }

    private static void AddNumber(JsonObject o, string name, double? value)
    {
        if (value is { } v && double.IsFinite(v))
        {
            o[name] = v;
        }
    }
}
