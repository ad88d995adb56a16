using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.AI;

namespace LlmEff.Extensions.AI;

/// <summary>Writes <see cref="EfficiencyMetrics"/> into, and reads them from, an additional-properties dictionary.</summary>
internal static class EfficiencyMetricsProperties
{
    public static void Write(AdditionalPropertiesDictionary target, EfficiencyMetrics metrics)
    {
        target[EfficiencyMetricsPropertyNames.RawRuntimeSeconds] = metrics.RawRuntimeSeconds;
        target[EfficiencyMetricsPropertyNames.UsageStatus] = metrics.UsageStatus.ToString();
        target[EfficiencyMetricsPropertyNames.Streamed] = metrics.Streamed;
        target[EfficiencyMetricsPropertyNames.PromptExtrapolated] = metrics.PromptExtrapolated;
        Set(target, EfficiencyMetricsPropertyNames.PromptTokens, metrics.PromptTokens);
        Set(target, EfficiencyMetricsPropertyNames.OutputTokens, metrics.OutputTokens);
        Set(target, EfficiencyMetricsPropertyNames.IdealizedRuntimeSeconds, metrics.IdealizedRuntimeSeconds);
        Set(target, EfficiencyMetricsPropertyNames.DenoisedRuntimeSeconds, metrics.DenoisedRuntimeSeconds);
        Set(target, EfficiencyMetricsPropertyNames.IdealizedCostUsd, metrics.IdealizedCostUsd);
        Set(target, EfficiencyMetricsPropertyNames.IdealizedEnergyJoules, metrics.IdealizedEnergyJoules);
        Set(target, EfficiencyMetricsPropertyNames.MeasuredEnergyJoules, metrics.MeasuredEnergyJoules);
        Set(target, EfficiencyMetricsPropertyNames.TimeToFirstUpdateSeconds, metrics.TimeToFirstUpdateSeconds);
        Set(target, EfficiencyMetricsPropertyNames.IdealizedProfileName, metrics.IdealizedProfileName);
        Set(target, EfficiencyMetricsPropertyNames.AcceleratorName, metrics.AcceleratorName);
        Set(target, EfficiencyMetricsPropertyNames.AcceleratorCount, metrics.AcceleratorCount);
        Set(target, EfficiencyMetricsPropertyNames.AcceleratorHourlyPriceUsd, metrics.AcceleratorHourlyPriceUsd);
        Set(target, EfficiencyMetricsPropertyNames.PricingDefaults, metrics.PricingDefaults);
    }

    public static EfficiencyMetrics? Read(AdditionalPropertiesDictionary? source)
    {
        if (source is null || !source.TryGetValue(EfficiencyMetricsPropertyNames.RawRuntimeSeconds, out var raw) || raw is null)
        {
            return null;
        }

        var statusText = ReadString(source, EfficiencyMetricsPropertyNames.UsageStatus);
        if (!Enum.TryParse<TokenUsageStatus>(statusText, ignoreCase: true, out var status))
        {
            throw new InvalidDataException($"{EfficiencyMetricsPropertyNames.UsageStatus} is '{statusText}', not one of {string.Join(", ", Enum.GetNames<TokenUsageStatus>())}; the properties were not written by EfficiencyMetricsChatClient.");
        }

        return new EfficiencyMetrics(
            ToDouble(EfficiencyMetricsPropertyNames.RawRuntimeSeconds, raw),
            status,
            ReadInt(source, EfficiencyMetricsPropertyNames.PromptTokens),
            ReadInt(source, EfficiencyMetricsPropertyNames.OutputTokens),
            ReadDouble(source, EfficiencyMetricsPropertyNames.IdealizedRuntimeSeconds),
            ReadDouble(source, EfficiencyMetricsPropertyNames.DenoisedRuntimeSeconds),
            ReadDouble(source, EfficiencyMetricsPropertyNames.IdealizedCostUsd),
            ReadDouble(source, EfficiencyMetricsPropertyNames.IdealizedEnergyJoules))
        {
            Streamed = ReadBool(source, EfficiencyMetricsPropertyNames.Streamed),
            PromptExtrapolated = ReadBool(source, EfficiencyMetricsPropertyNames.PromptExtrapolated),
            MeasuredEnergyJoules = ReadDouble(source, EfficiencyMetricsPropertyNames.MeasuredEnergyJoules),
            TimeToFirstUpdateSeconds = ReadDouble(source, EfficiencyMetricsPropertyNames.TimeToFirstUpdateSeconds),
            IdealizedProfileName = ReadString(source, EfficiencyMetricsPropertyNames.IdealizedProfileName),
            AcceleratorName = ReadString(source, EfficiencyMetricsPropertyNames.AcceleratorName),
            AcceleratorCount = ReadInt(source, EfficiencyMetricsPropertyNames.AcceleratorCount),
            AcceleratorHourlyPriceUsd = ReadDouble(source, EfficiencyMetricsPropertyNames.AcceleratorHourlyPriceUsd),
            PricingDefaults = ReadString(source, EfficiencyMetricsPropertyNames.PricingDefaults),
        };
    }

    private static void Set<T>(AdditionalPropertiesDictionary target, string key, T? value)
    {
        if (value is null)
        {
            target.Remove(key);
        }
        else
        {
            target[key] = value;
        }
    }

    private static double? ReadDouble(AdditionalPropertiesDictionary source, string key)
        => source.TryGetValue(key, out var value) && value is not null ? ToDouble(key, value) : null;

    private static int? ReadInt(AdditionalPropertiesDictionary source, string key)
    {
        var value = ReadDouble(source, key);
        return value is { } v ? checked((int)v) : null;
    }

    private static bool ReadBool(AdditionalPropertiesDictionary source, string key)
        => source.TryGetValue(key, out var value) && value switch
        {
            bool b => b,
            JsonElement { ValueKind: JsonValueKind.True } => true,
            JsonElement { ValueKind: JsonValueKind.False } => false,
            string s when bool.TryParse(s, out var b) => b,
            null => false,
            _ => throw Unreadable(key, value),
        };

    private static string? ReadString(AdditionalPropertiesDictionary source, string key)
        => source.TryGetValue(key, out var value) ? value switch
        {
            null => null,
            string s => s,
            JsonElement { ValueKind: JsonValueKind.String } e => e.GetString(),
            JsonElement { ValueKind: JsonValueKind.Null } => null,
            _ => throw Unreadable(key, value),
        } : null;

    // After a JSON round trip the values come back as JsonElement; in memory they are the CLR numbers written above.
    private static double ToDouble(string key, object value) => value switch
    {
        double d => d,
        float f => f,
        int i => i,
        long l => l,
        decimal m => (double)m,
        JsonElement { ValueKind: JsonValueKind.Number } e => e.GetDouble(),
        string s when double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => d,
        _ => throw Unreadable(key, value),
    };

    private static InvalidDataException Unreadable(string key, object value)
        => new($"Additional property {key} holds '{value}' ({value.GetType().Name}), which is not the type EfficiencyMetricsChatClient writes; remove or fix the value.");
}
