using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using LlmEff.Core;

namespace LlmEff.Cli.Energy;

/// <summary>
/// JSON form of <see cref="MeasuredEnergy"/>: <c>{"schema": "llmeff.energy-model", "schema_version": 1,
/// "accelerator_count", "idle_power_watts", "board_power_watts", "counter_interval_seconds", "energy": {runtime-model JSON
/// in joules}}</c>. Written by <c>profile torch</c> and <c>fit</c>, read by <c>estimate</c>.
/// </summary>
internal static class MeasuredEnergyJson
{
    private const string Schema = "llmeff.energy-model";

    /// <summary>Writes <paramref name="energy"/> to <paramref name="path"/>.</summary>
    public static void Save(MeasuredEnergy energy, string path)
    {
        ArgumentNullException.ThrowIfNull(energy);
        var root = new JsonObject
        {
            ["schema"] = Schema,
            ["schema_version"] = 1,
            ["accelerator_count"] = energy.AcceleratorCount,
        };
        AddOptional(root, "idle_power_watts", energy.IdlePowerWatts);
        AddOptional(root, "board_power_watts", energy.BoardPowerWatts);
        AddOptional(root, "counter_interval_seconds", energy.CounterIntervalSeconds);
        root["energy"] = JsonNode.Parse(energy.Joules.ToJson());
        File.WriteAllText(path, root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>Reads an energy model file.</summary>
    /// <exception cref="InvalidDataException">Not an energy model file, or malformed.</exception>
    public static MeasuredEnergy Load(string path) => Parse(File.ReadAllText(path), path);

    /// <summary>Parses an energy model; <paramref name="path"/> names its origin in errors.</summary>
    /// <exception cref="InvalidDataException">Not an energy model, or malformed.</exception>
    public static MeasuredEnergy Parse(string json, string path)
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(json);
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"energy model '{path}' is not valid JSON: {ex.Message}", ex);
        }

        if (root is not JsonObject obj || (string?)obj["schema"] != Schema || obj["energy"] is not JsonObject model)
        {
            throw new InvalidDataException($"'{path}' is not an energy model (expected \"schema\": \"{Schema}\" and an \"energy\" object); it is written by 'llmeff profile torch' or 'llmeff fit -o' from samples with energy_joules.");
        }

        try
        {
            return new MeasuredEnergy(RuntimeModel.FromJson(model.ToJsonString()))
            {
                AcceleratorCount = (int?)obj["accelerator_count"] ?? 1,
                IdlePowerWatts = (double?)obj["idle_power_watts"],
                BoardPowerWatts = (double?)obj["board_power_watts"],
                CounterIntervalSeconds = (double?)obj["counter_interval_seconds"],
            };
        }
        catch (Exception ex) when (ex is FormatException or InvalidOperationException or JsonException or ArgumentException)
        {
            throw new InvalidDataException($"energy model '{path}': {ex.Message}", ex);
        }
    }

    /// <summary>The companion energy model of the runtime-model file <paramref name="modelPath"/>, or null when there is none.</summary>
    public static MeasuredEnergy? TryLoadCompanion(string modelPath)
    {
        var companion = MeasuredEnergy.CompanionPath(modelPath);
        return File.Exists(companion) ? Load(companion) : null;
    }

    /// <summary>Fits the energy model of the samples that carry energy, or returns null when none does.</summary>
    public static MeasuredEnergy? FitOrNull(IReadOnlyCollection<ProfilingSample> samples, RuntimeFitOptions options, double? idlePowerWatts = null, double? boardPowerWatts = null, double? counterIntervalSeconds = null)
    {
        var withEnergy = samples.Where(s => s.EnergyJoules is > 0).Select(s => s with { RuntimeSeconds = s.EnergyJoules!.Value }).ToList();
        if (withEnergy.Count == 0)
        {
            return null;
        }

        var notes = string.Create(CultureInfo.InvariantCulture, $"ENERGY model: values are joules (PE = E_pe(p) in J, g = e in J per output token); {withEnergy.Count} of {samples.Count} samples carry energy");
        var metadata = (options.Metadata ?? new RuntimeModelMetadata()) with { Notes = notes };
        // Energy is noisier than time (counter quantisation), so a lower R² only warns at 0.95, as TorchProfile.FitEnergy does.
        var joules = RuntimeModel.Fit(withEnergy, options with { Metadata = metadata, RSquaredWarningThreshold = Math.Min(options.RSquaredWarningThreshold, 0.95) });
        return new MeasuredEnergy(joules)
        {
            IdlePowerWatts = idlePowerWatts,
            BoardPowerWatts = boardPowerWatts,
            CounterIntervalSeconds = counterIntervalSeconds,
        };
    }

    private static void AddOptional(JsonObject root, string name, double? value)
    {
        if (value is { } v && double.IsFinite(v))
        {
            root[name] = v;
        }
    }
}
