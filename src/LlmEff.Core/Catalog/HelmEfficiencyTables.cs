using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace LlmEff.Core.Catalog;

/// <summary>
/// Reads and writes HELM's efficiency tables (stanford-crfm/helm, <c>efficiency_data/inference_*_runtimes.json</c>):
/// a JSON object from model name to <c>{ "runtime_per_output_token", "runtime_for_prompt_tokens": { "p": seconds },
/// "overhead"? }</c>, as <see cref="RuntimeModel"/>s. Reads text, a stream or a file; <see cref="HelmTables"/> locates
/// HELM's two published tables and adds provenance.
/// </summary>
public static class HelmEfficiencyTables
{
    /// <summary>Reads every model of a HELM table from <paramref name="json"/>.</summary>
    /// <param name="json">The table's JSON text.</param>
    /// <param name="mode">
    /// How PE is read off the table: <see cref="PromptEncodingMode.HelmNextKeyScaled"/> reproduces HELM's own numbers;
    /// <see cref="PromptEncodingMode.Interpolate"/> (default) uses LlmEff's interpolation between the same knots.
    /// </param>
    /// <param name="metric">Which metric the table holds (idealized or denoised), stored in each model's metadata.</param>
    /// <exception cref="InvalidDataException">The text is not a HELM efficiency table; the message names the model and field.</exception>
    public static IReadOnlyDictionary<string, RuntimeModel> Read(string json, PromptEncodingMode mode = PromptEncodingMode.Interpolate, RuntimeMetric metric = RuntimeMetric.Unspecified)
    {
        ArgumentNullException.ThrowIfNull(json);
        JsonNode? root;
        try
        {
            Serialization.JsonDuplicateKeys.Check(json);
            root = JsonNode.Parse(json);
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"Not a HELM efficiency table: {ex.Message}", ex);
        }

        if (root is not JsonObject models)
        {
            throw new InvalidDataException("A HELM efficiency table is a JSON object from model name to its parameters.");
        }

        var result = new SortedDictionary<string, RuntimeModel>(StringComparer.Ordinal);
        foreach (var (name, node) in models)
        {
            if (node is not JsonObject entry)
            {
                throw new InvalidDataException($"HELM table entry '{name}' is not an object.");
            }

            var g = Number(entry, "runtime_per_output_token", name);
            var overhead = entry["overhead"] is null ? 0.0 : Number(entry, "overhead", name);
            if (entry["runtime_for_prompt_tokens"] is not JsonObject prompts || prompts.Count == 0)
            {
                throw new InvalidDataException($"HELM table entry '{name}' has no runtime_for_prompt_tokens object.");
            }

            var knots = new List<PiecewiseLinearKnot>();
            foreach (var (key, value) in prompts)
            {
                if (!int.TryParse(key, NumberStyles.Integer, CultureInfo.InvariantCulture, out var p) || p < 1)
                {
                    throw new InvalidDataException($"HELM table entry '{name}': prompt-size key '{key}' is not a positive integer.");
                }

                if (value is null || value.GetValueKind() != JsonValueKind.Number)
                {
                    throw new InvalidDataException($"HELM table entry '{name}': runtime_for_prompt_tokens[\"{key}\"] is not a number.");
                }

                knots.Add(new PiecewiseLinearKnot(p, value.GetValue<double>()));
            }

            try
            {
                result[name] = RuntimeModel.Create(
                    new PiecewiseLinearFunction(knots),
                    g,
                    0.0,
                    overhead,
                    mode,
                    new RuntimeModelMetadata { ModelName = name, Metric = metric, Source = "HELM efficiency table" });
            }
            catch (ArgumentException ex)
            {
                // A negative runtime, a knot twice (keys "256" and "0256"): named by the entry, as the file is by the callers.
                var reason = ex.Message.Split('\n')[0].Replace($" (Parameter '{ex.ParamName}')", string.Empty, StringComparison.Ordinal);
                throw new InvalidDataException($"HELM table entry '{name}': {reason}", ex);
            }
        }

        return result;
    }

    /// <summary>Reads every model of a HELM table from <paramref name="stream"/> (UTF-8 JSON), leaving the stream open.</summary>
    /// <param name="stream">The table's JSON, e.g. an embedded resource or a downloaded file.</param>
    /// <param name="sourceName">What the stream holds (a file or resource name), named in error messages.</param>
    /// <param name="mode">How PE is read off the table; see <see cref="Read(string, PromptEncodingMode, RuntimeMetric)"/>.</param>
    /// <param name="metric">Which metric the table holds, stored in each model's metadata.</param>
    /// <exception cref="InvalidDataException">The stream is not a HELM efficiency table; the message starts with <paramref name="sourceName"/>.</exception>
    public static IReadOnlyDictionary<string, RuntimeModel> Read(Stream stream, string sourceName, PromptEncodingMode mode = PromptEncodingMode.Interpolate, RuntimeMetric metric = RuntimeMetric.Unspecified)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentException.ThrowIfNullOrWhiteSpace(sourceName);
        using var reader = new StreamReader(stream, leaveOpen: true);
        try
        {
            return Read(reader.ReadToEnd(), mode, metric);
        }
        catch (InvalidDataException ex)
        {
            throw new InvalidDataException($"{sourceName}: {ex.Message}", ex);
        }
    }

    /// <summary>Reads a HELM table file.</summary>
    /// <param name="path">The table's path, e.g. <c>inference_idealized_runtimes.json</c> from HELM's <c>efficiency_data/</c>.</param>
    /// <param name="mode">How PE is read off the table; see <see cref="Read(string, PromptEncodingMode, RuntimeMetric)"/>.</param>
    /// <param name="metric">Which metric the table holds, stored in each model's metadata.</param>
    /// <exception cref="FileNotFoundException">No file at <paramref name="path"/>; the message names it.</exception>
    /// <exception cref="InvalidDataException">The file is not a HELM efficiency table; the message names the file, model and field.</exception>
    public static IReadOnlyDictionary<string, RuntimeModel> ReadFile(string path, PromptEncodingMode mode = PromptEncodingMode.Interpolate, RuntimeMetric metric = RuntimeMetric.Unspecified)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"No HELM efficiency table at '{path}'; pass the path of inference_idealized_runtimes.json or inference_denoised_runtimes.json from HELM's efficiency_data/.", path);
        }

        try
        {
            return Read(File.ReadAllText(path), mode, metric);
        }
        catch (InvalidDataException ex)
        {
            throw new InvalidDataException($"{path}: {ex.Message}", ex);
        }
    }

    /// <summary>
    /// Writes models as a HELM table (indented JSON text). HELM has no context-growth term, so a model with <c>g1 ≠ 0</c> is refused (fit it
    /// with <see cref="DecodeModel.Constant"/> for export); knot x values must be positive integers.
    /// </summary>
    /// <param name="models">The models by the name HELM's table keys them with.</param>
    /// <exception cref="ArgumentException">A model has a context-growth term or a non-integer PE knot; the message names it.</exception>
    public static string Write(IReadOnlyDictionary<string, RuntimeModel> models)
    {
        ArgumentNullException.ThrowIfNull(models);
        var root = new JsonObject();
        foreach (var (name, model) in models.OrderBy(m => m.Key, StringComparer.Ordinal))
        {
            if (model.PerOutputTokenContextSeconds != 0)
            {
                throw new ArgumentException($"Model '{name}' has g1 = {model.PerOutputTokenContextSeconds}; HELM tables hold a constant per-output-token time. Refit with DecodeModel.Constant to export.", nameof(models));
            }

            var prompts = new JsonObject();
            foreach (var k in model.PromptEncoding.Knots)
            {
                if (k.X < 1 || k.X != Math.Floor(k.X))
                {
                    throw new ArgumentException($"Model '{name}' has a PE knot at p = {k.X}; HELM keys are positive integer prompt sizes.", nameof(models));
                }

                prompts[((int)k.X).ToString(CultureInfo.InvariantCulture)] = k.Y;
            }

            var entry = new JsonObject
            {
                ["runtime_per_output_token"] = model.PerOutputTokenSeconds,
                ["runtime_for_prompt_tokens"] = prompts,
            };
            if (model.OverheadSeconds != 0)
            {
                entry["overhead"] = model.OverheadSeconds;
            }

            root[name] = entry;
        }

        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    private static double Number(JsonObject entry, string field, string name)
        => entry[field] is { } v && v.GetValueKind() == JsonValueKind.Number
            ? v.GetValue<double>()
            : throw new InvalidDataException($"HELM table entry '{name}' has no numeric '{field}'.");
}
