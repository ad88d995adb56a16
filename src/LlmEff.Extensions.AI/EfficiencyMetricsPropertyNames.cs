namespace LlmEff.Extensions.AI;

/// <summary>
/// Keys under which <see cref="EfficiencyMetricsChatClient"/> stores <see cref="EfficiencyMetrics"/> in
/// <c>ChatResponse.AdditionalProperties</c> (and the final streaming update's). Values are plain numbers, booleans and
/// strings so they survive JSON serialization; a value that is null is left out. Read them back with
/// <see cref="ChatResponseEfficiencyExtensions.GetEfficiencyMetrics(Microsoft.Extensions.AI.ChatResponse)"/>.
/// </summary>
public static class EfficiencyMetricsPropertyNames
{
    /// <summary>Raw runtime in seconds (double).</summary>
    public const string RawRuntimeSeconds = "llmeff.raw_runtime_seconds";

    /// <summary>Usage status: a <see cref="TokenUsageStatus"/> name (string).</summary>
    public const string UsageStatus = "llmeff.usage_status";

    /// <summary>Prompt tokens <c>p</c> (int).</summary>
    public const string PromptTokens = "llmeff.prompt_tokens";

    /// <summary>Output tokens <c>o</c> (int).</summary>
    public const string OutputTokens = "llmeff.output_tokens";

    /// <summary>Idealized runtime in seconds (double).</summary>
    public const string IdealizedRuntimeSeconds = "llmeff.idealized_runtime_seconds";

    /// <summary>Denoised runtime in seconds (double).</summary>
    public const string DenoisedRuntimeSeconds = "llmeff.denoised_runtime_seconds";

    /// <summary>Idealized cost in US dollars (double).</summary>
    public const string IdealizedCostUsd = "llmeff.idealized_cost_usd";

    /// <summary>Idealized energy in joules (double).</summary>
    public const string IdealizedEnergyJoules = "llmeff.idealized_energy_joules";

    /// <summary>Measured energy in joules (double), from <see cref="EfficiencyMetricsOptions.Energy"/>.</summary>
    public const string MeasuredEnergyJoules = "llmeff.measured_energy_joules";

    /// <summary>Whether the response was streamed (bool).</summary>
    public const string Streamed = "llmeff.streamed";

    /// <summary>Seconds to the first streamed update (double).</summary>
    public const string TimeToFirstUpdateSeconds = "llmeff.time_to_first_update_seconds";

    /// <summary>Whether <c>p</c> was outside the idealized profile's fitted prompt sizes (bool).</summary>
    public const string PromptExtrapolated = "llmeff.prompt_extrapolated";

    /// <summary>Model name of the idealized profile (string).</summary>
    public const string IdealizedProfileName = "llmeff.idealized_profile";

    /// <summary>Accelerator name for cost and energy (string).</summary>
    public const string AcceleratorName = "llmeff.accelerator";

    /// <summary>Accelerators per request for cost and energy (int).</summary>
    public const string AcceleratorCount = "llmeff.accelerator_count";

    /// <summary>Price per accelerator-hour in US dollars for cost (double).</summary>
    public const string AcceleratorHourlyPriceUsd = "llmeff.accelerator_hourly_price_usd";

    /// <summary>Which defaults priced cost and energy, when the profile gave none (string).</summary>
    public const string PricingDefaults = "llmeff.pricing_defaults";
}
