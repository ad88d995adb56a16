using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace LlmEff.Core.Batching;

/// <summary>
/// JSON of <see cref="BatchedRuntimeModel"/>: <c>{"schema": "llmeff.batched-runtime-model", "schema_version": 1,
/// "model_name", "hardware", "accelerator_count", "accelerator_name", "software", "source", "emulated", "metric",
/// "accelerator_hourly_price_usd", "measured_utc", "notes", "batches": [{"batch_size", "model": {runtime model}}],
/// "fit_error", "leave_one_batch_size_out_error"}</c>, each <c>model</c> in <see cref="RuntimeModel"/>'s own schema, so
/// every per-batch-size model is read with that schema's checks.
/// </summary>
internal static class BatchedRuntimeModelJson
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static string Serialize(BatchedRuntimeModel model)
    {
        var batches = new JsonArray();
        for (var i = 0; i < model.ProfiledBatchSizes.Count; i++)
        {
            batches.Add(new JsonObject
            {
                ["batch_size"] = model.ProfiledBatchSizes[i],
                ["model"] = JsonNode.Parse(model.BatchModels[i].ToJson()),
            });
        }

        var m = model.Metadata;
        var root = new JsonObject
        {
            ["schema"] = BatchedRuntimeModel.JsonSchemaName,
            ["schema_version"] = BatchedRuntimeModel.JsonSchemaVersion,
            ["model_name"] = m.ModelName,
            ["hardware"] = m.Hardware,
            ["accelerator_count"] = m.AcceleratorCount,
            ["accelerator_name"] = m.AcceleratorName,
            ["software"] = m.Software,
            ["source"] = m.Source,
            ["emulated"] = m.Emulated,
            ["metric"] = m.Metric.ToString(),
            ["accelerator_hourly_price_usd"] = m.AcceleratorHourlyPriceUsd,
            ["measured_utc"] = m.MeasuredUtc?.ToString("O", CultureInfo.InvariantCulture),
            ["notes"] = m.Notes,
            ["batches"] = batches,
            ["fit_error"] = Error(model.FitError),
            ["leave_one_batch_size_out_error"] = Error(model.LeaveOneBatchSizeOutError),
        };
        return root.ToJsonString(Indented);
    }

    public static BatchedRuntimeModel Deserialize(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        JsonNode? parsed = null;
        try
        {
            if (!string.IsNullOrWhiteSpace(json))
            {
                Serialization.JsonDuplicateKeys.Check(json);
                parsed = JsonNode.Parse(json);
            }
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"Not valid JSON ({ex.Message}); write the file again with BatchedRuntimeModel.ToJson() or 'llmeff profile torch --batch-sizes' (its <model>-batched-runtime-model.json).", ex);
        }

        if (parsed is not JsonObject root)
        {
            throw new InvalidDataException("A batched runtime model is a JSON object; pass a file written by BatchedRuntimeModel.ToJson().");
        }

        var schema = root["schema"] is JsonValue sv && sv.TryGetValue<string>(out var sn) ? sn : null;
        if (schema != BatchedRuntimeModel.JsonSchemaName)
        {
            throw new InvalidDataException($"Expected \"schema\": \"{BatchedRuntimeModel.JsonSchemaName}\" but found {(schema is null ? "none" : $"\"{schema}\"")}; a batch-1 runtime model (llmeff.runtime-model) has no batch sizes: fit samples of several batch sizes instead.");
        }

        var version = Int(root, "schema_version", "schema_version");
        if (version != BatchedRuntimeModel.JsonSchemaVersion)
        {
            throw new InvalidDataException($"Batched runtime-model schema_version {version} is not supported: this LlmEff reads version {BatchedRuntimeModel.JsonSchemaVersion}.");
        }

        if (root["batches"] is not JsonArray batches)
        {
            throw new InvalidDataException("The field 'batches' is missing or not an array; it lists {\"batch_size\", \"model\"} per profiled batch size.");
        }

        var models = new List<KeyValuePair<int, RuntimeModel>>();
        for (var i = 0; i < batches.Count; i++)
        {
            if (batches[i] is not JsonObject entry)
            {
                throw new InvalidDataException($"batches[{i}] is not an object; write {{\"batch_size\": 4, \"model\": {{...}}}}.");
            }

            var b = Int(entry, "batch_size", $"batches[{i}].batch_size");
            if (entry["model"] is not JsonObject modelNode)
            {
                throw new InvalidDataException($"batches[{i}].model is missing or not an object; it is a runtime model in the llmeff.runtime-model schema.");
            }

            try
            {
                models.Add(new(b, RuntimeModel.FromJson(modelNode.ToJsonString())));
            }
            catch (InvalidDataException ex)
            {
                throw new InvalidDataException($"batches[{i}].model: {ex.Message}", ex);
            }
        }

        var acceleratorCount = root["accelerator_count"] is null ? (int?)null : Int(root, "accelerator_count", "accelerator_count");
        if (acceleratorCount < 1)
        {
            throw new InvalidDataException("accelerator_count: a model is served by 1 or more accelerators; fix the value or remove it.");
        }

        var metadata = new RuntimeModelMetadata
        {
            ModelName = Text(root, "model_name"),
            Hardware = Text(root, "hardware"),
            AcceleratorCount = acceleratorCount,
            AcceleratorName = Text(root, "accelerator_name"),
            Software = Text(root, "software"),
            Source = Text(root, "source"),
            Emulated = root["emulated"] is JsonValue ev && ev.TryGetValue<bool>(out var e) && e,
            // Files written before these fields existed have none of them.
            Metric = Text(root, "metric") is { } metric
                ? Enum.TryParse<RuntimeMetric>(metric, ignoreCase: true, out var parsedMetric) && Enum.IsDefined(parsedMetric)
                    ? parsedMetric
                    : throw new InvalidDataException($"The field 'metric' is \"{metric}\"; write one of {string.Join(", ", Enum.GetNames<RuntimeMetric>())}.")
                : default,
            AcceleratorHourlyPriceUsd = root["accelerator_hourly_price_usd"] is null ? null : Num(root, "accelerator_hourly_price_usd", "accelerator_hourly_price_usd") is var price && price >= 0
                ? price
                : throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"accelerator_hourly_price_usd: {price} is no hourly price; give a finite number of dollars, 0 or more, or remove it.")),
            MeasuredUtc = Text(root, "measured_utc") is { } measured
                ? DateTimeOffset.TryParse(measured, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var when)
                    ? when
                    : throw new InvalidDataException($"The field 'measured_utc' is \"{measured}\", not a date; write it as ISO 8601 (2026-12-07T00:38:25Z).")
                : null,
            Notes = Text(root, "notes"),
        };
        try
        {
            return BatchedRuntimeModel.Create(models, metadata, ReadError(root, "fit_error"), ReadError(root, "leave_one_batch_size_out_error"));
        }
        catch (ArgumentException ex)
        {
            throw new InvalidDataException($"batches: {ex.Message}", ex);
        }
    }

    private static JsonObject? Error(ErrorSummary? e) => e is null ? null : new JsonObject
    {
        ["count"] = e.Count,
        ["median"] = e.Median,
        ["p90"] = e.P90,
        ["max"] = e.Max,
        ["rms"] = e.RootMeanSquare,
    };

    private static ErrorSummary? ReadError(JsonObject root, string name)
    {
        if (root[name] is not JsonObject o)
        {
            return null;
        }

        return new ErrorSummary(Int(o, "count", $"{name}.count"), Num(o, "median", name), Num(o, "p90", name), Num(o, "max", name), Num(o, "rms", name));
    }

    private static string? Text(JsonObject o, string name) => o[name] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    private static int Int(JsonObject o, string name, string path)
        => o[name] is JsonValue v && v.TryGetValue<int>(out var i)
            ? i
            : throw new InvalidDataException($"The field '{path}' is missing or not an integer; write it as a JSON number without quotes.");

    private static double Num(JsonObject o, string name, string path)
        => o[name] is JsonValue v && v.TryGetValue<double>(out var d) && double.IsFinite(d)
            ? d
            : throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"The field '{path}.{name}' is missing or not a finite number."));
}
