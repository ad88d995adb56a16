namespace LlmEff.Extensions.AI;

/// <summary>
/// HELM-style efficiency metrics of one chat request (Narayanan et al., 2023, §4): the measured raw runtime and,
/// from the response's token usage, the idealized runtime, the denoised runtime (when a denoised profile was set),
/// and the idealized dollar cost <c>t × n × price/s</c> and energy <c>t × n × watts</c>. Values that could not be
/// computed are <see langword="null"/>; <see cref="UsageStatus"/> says why.
/// </summary>
/// <param name="RawRuntimeSeconds">Wall-clock seconds from the call until the response (or the end of the stream) arrived.</param>
/// <param name="UsageStatus">Whether the response's token usage was reported and usable.</param>
/// <param name="PromptTokens">Prompt tokens <c>p</c> the response reported (input tokens), if any.</param>
/// <param name="OutputTokens">Output tokens <c>o</c> the response reported, if any.</param>
/// <param name="IdealizedRuntimeSeconds">Runtime of <c>(p, o)</c> under the idealized profile; null when usage is missing.</param>
/// <param name="DenoisedRuntimeSeconds">Runtime of <c>(p, o)</c> under the denoised profile; null when none is set or usage is missing.</param>
/// <param name="IdealizedCostUsd">Idealized dollar cost in US dollars; null when usage is missing or no accelerator is set.</param>
/// <param name="IdealizedEnergyJoules">Idealized energy in joules; null when usage is missing or no accelerator is set.</param>
public sealed record EfficiencyMetrics(
    double RawRuntimeSeconds,
    TokenUsageStatus UsageStatus,
    int? PromptTokens,
    int? OutputTokens,
    double? IdealizedRuntimeSeconds,
    double? DenoisedRuntimeSeconds,
    double? IdealizedCostUsd,
    double? IdealizedEnergyJoules)
{
    /// <summary>True when the response was streamed; the raw runtime then runs to the end of the stream.</summary>
    public bool Streamed { get; init; }

    /// <summary>Seconds from the call to the first streamed update; null for non-streaming calls and empty streams.</summary>
    public double? TimeToFirstUpdateSeconds { get; init; }

    /// <summary>
    /// Measured energy of <c>(p, o)</c> in joules under <see cref="EfficiencyMetricsOptions.Energy"/>; null when no energy
    /// model is set or usage is missing.
    /// </summary>
    public double? MeasuredEnergyJoules { get; init; }

    /// <summary>True when <c>p</c> lies outside the prompt sizes the idealized profile was fitted on (extrapolated).</summary>
    public bool PromptExtrapolated { get; init; }

    /// <summary>Model name of the idealized profile (its metadata), for the report.</summary>
    public string? IdealizedProfileName { get; init; }

    /// <summary>Name of the accelerator the cost and energy assume; null when none was set.</summary>
    public string? AcceleratorName { get; init; }

    /// <summary>Accelerators <c>n</c> serving one request that the cost and energy assume; null when no accelerator was set.</summary>
    public int? AcceleratorCount { get; init; }

    /// <summary>Price per accelerator-hour in US dollars the cost assumes; null when no accelerator was set.</summary>
    public double? AcceleratorHourlyPriceUsd { get; init; }

    /// <summary>
    /// Which defaults the cost and energy assume because neither the options nor the profile's metadata gave them (e.g.
    /// <c>accelerator A100-80GB (…)</c>); null when the accelerator and count came from the options or the profile.
    /// </summary>
    public string? PricingDefaults { get; init; }

    /// <summary>True when the idealized metrics were computed (usage reported, possibly with 0 output tokens).</summary>
    public bool HasUsage => UsageStatus != TokenUsageStatus.Missing;
}
