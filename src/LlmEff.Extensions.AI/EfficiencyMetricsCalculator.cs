using LlmEff.Core;
using LlmEff.Core.Energy;
using LlmEff.Core.Hardware;
using LlmEff.Core.Metrics;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;

namespace LlmEff.Extensions.AI;

/// <summary>
/// Turns one request's raw runtime and token usage into <see cref="EfficiencyMetrics"/> under validated
/// <see cref="EfficiencyMetricsOptions"/>. <see cref="EfficiencyMetricsChatClient"/> uses it on every response; a harness
/// with its own client can use it directly.
/// </summary>
public sealed class EfficiencyMetricsCalculator
{
    /// <summary>Validates <paramref name="options"/> and copies its values.</summary>
    /// <exception cref="ArgumentException">A profile is missing or of the wrong kind, or the accelerator settings conflict; the message says which and how to fix it.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The accelerator count is below 1, or an accelerator figure (or the profile's price) is invalid.</exception>
    public EfficiencyMetricsCalculator(EfficiencyMetricsOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.TimeProvider is null)
        {
            throw new ArgumentException("EfficiencyMetricsOptions.TimeProvider is null; leave it at TimeProvider.System, or set the clock calls should be timed on.", nameof(options));
        }

        IdealizedRuntime = options.IdealizedRuntime ?? throw new ArgumentException(
            "EfficiencyMetricsOptions.IdealizedRuntime is null; set it to the model's idealized profile, e.g. PaperTable3.Get(\"OpenAI/davinci\", RuntimeMetric.Idealized) or RuntimeModelJson.Load(path).",
            nameof(options));
        CheckMetric(IdealizedRuntime, RuntimeMetric.Idealized, nameof(EfficiencyMetricsOptions.IdealizedRuntime), nameof(EfficiencyMetricsOptions.DenoisedRuntime));
        DenoisedRuntime = options.DenoisedRuntime;
        Energy = options.Energy;
        if (DenoisedRuntime is not null)
        {
            CheckMetric(DenoisedRuntime, RuntimeMetric.Denoised, nameof(EfficiencyMetricsOptions.DenoisedRuntime), nameof(EfficiencyMetricsOptions.IdealizedRuntime));
        }

        if (options.RuntimesOnly)
        {
            if (options.Accelerator is not null || options.AcceleratorCount is not null)
            {
                throw new ArgumentException(
                    "RuntimesOnly is true, so Accelerator and AcceleratorCount have no effect; leave them null, or set RuntimesOnly = false for cost and energy.",
                    nameof(options));
            }

            return;
        }

        // The profile's own hardware, count and price come first, so a profile measured on an H100 is priced as one; each
        // default taken instead is named in every response's metrics and logged once here.
        var defaults = new List<string>();
        var accelerator = options.Accelerator ?? ProfileAccelerator(IdealizedRuntime, nameof(options));
        if (accelerator is null)
        {
            accelerator = EfficiencyMetricsOptions.DefaultAccelerator;
            defaults.Add($"accelerator {accelerator.Name} (the profile's metadata names no known accelerator: hardware '{IdealizedRuntime.Metadata.Hardware ?? "none"}')");
        }

        Accelerator = accelerator.Validate();
        var count = options.AcceleratorCount ?? IdealizedRuntime.Metadata.AcceleratorCount;
        if (count is null)
        {
            count = EfficiencyMetricsOptions.DefaultAcceleratorCount;
            defaults.Add($"{count} accelerator per request (the profile records no accelerator count)");
        }

        if (count < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), count, $"AcceleratorCount = {count}: at least 1 accelerator serves a request; set AcceleratorCount to 1 or more.");
        }

        AcceleratorCount = count;
        if (defaults.Count > 0)
        {
            PricingDefaults = string.Join("; ", defaults);
            options.Logger?.LogWarning(
                "Idealized cost and energy of profile '{Profile}' use defaults: {Defaults}. Set EfficiencyMetricsOptions.Accelerator and AcceleratorCount, or record them in the profile's metadata.",
                ProfileName(IdealizedRuntime),
                PricingDefaults);
        }
    }

    /// <summary>The idealized runtime profile.</summary>
    public RuntimeModel IdealizedRuntime { get; }

    /// <summary>The denoised runtime profile, if one was set.</summary>
    public RuntimeModel? DenoisedRuntime { get; }

    /// <summary>The measured energy model, if one was set.</summary>
    public EnergyModel? Energy { get; }

    /// <summary>The accelerator for cost and energy; null computes runtimes only.</summary>
    public Accelerator? Accelerator { get; }

    /// <summary>Accelerators serving one request; null exactly when <see cref="Accelerator"/> is null.</summary>
    public int? AcceleratorCount { get; }

    /// <summary>
    /// Which defaults price the cost and energy because neither the options nor the profile's metadata gave them, e.g.
    /// <c>accelerator A100-80GB (…)</c>; null when nothing was defaulted or no cost is computed.
    /// </summary>
    public string? PricingDefaults { get; }

    /// <summary>Metrics of one request from its token usage (<c>InputTokenCount</c> = p, <c>OutputTokenCount</c> = o).</summary>
    /// <param name="rawRuntimeSeconds">Measured wall-clock seconds; finite and non-negative.</param>
    /// <param name="usage">The response's usage; null counts as missing.</param>
    public EfficiencyMetrics Compute(double rawRuntimeSeconds, UsageDetails? usage)
        => Compute(rawRuntimeSeconds, usage?.InputTokenCount, usage?.OutputTokenCount);

    /// <summary>
    /// Metrics of one request. A null, negative or out-of-range count makes the usage <see cref="TokenUsageStatus.Missing"/>
    /// (runtime only); 0 output tokens is a non-generating call priced at <c>t(p, 1)</c> = <c>PE(p)</c> + overhead, as HELM does.
    /// </summary>
    /// <param name="rawRuntimeSeconds">Measured wall-clock seconds; finite and non-negative.</param>
    /// <param name="promptTokens">Prompt tokens <c>p</c>, if reported.</param>
    /// <param name="outputTokens">Output tokens <c>o</c>, if reported.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rawRuntimeSeconds"/> is negative, NaN or infinite.</exception>
    public EfficiencyMetrics Compute(double rawRuntimeSeconds, long? promptTokens, long? outputTokens)
    {
        if (!double.IsFinite(rawRuntimeSeconds) || rawRuntimeSeconds < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(rawRuntimeSeconds), rawRuntimeSeconds, "A raw runtime is a finite, non-negative number of seconds.");
        }

        var p = AsCount(promptTokens);
        var o = AsCount(outputTokens);
        if (p is not { } prompt || o is not { } output)
        {
            return new EfficiencyMetrics(rawRuntimeSeconds, TokenUsageStatus.Missing, p, o, null, null, null, null) with
            {
                IdealizedProfileName = IdealizedRuntime.Metadata.ModelName,
                AcceleratorName = Accelerator?.Name,
                AcceleratorCount = AcceleratorCount,
                AcceleratorHourlyPriceUsd = Accelerator?.HourlyPriceUsd,
                PricingDefaults = PricingDefaults,
            };
        }

        // The runtime model needs o >= 1 (the first token comes out of prompt encoding); o = 0 still paid for PE(p).
        var status = output == 0 ? TokenUsageStatus.NoOutputTokens : TokenUsageStatus.Reported;
        var modelOutput = Math.Max(1, output);
        var idealized = IdealizedRuntime.Predict(prompt, modelOutput);
        double? cost = null, energy = null;
        if (Accelerator is not null && AcceleratorCount is { } n)
        {
            cost = IdealizedMetrics.DollarCostUsd(idealized, n, Accelerator);
            energy = IdealizedMetrics.EnergyJoules(idealized, n, Accelerator);
        }

        return new EfficiencyMetrics(rawRuntimeSeconds, status, prompt, output, idealized, DenoisedRuntime?.Predict(prompt, modelOutput), cost, energy)
        {
            PromptExtrapolated = IdealizedRuntime.IsExtrapolated(prompt),
            MeasuredEnergyJoules = Energy?.PredictJoules(prompt, modelOutput),
            IdealizedProfileName = IdealizedRuntime.Metadata.ModelName,
            AcceleratorName = Accelerator?.Name,
            AcceleratorCount = AcceleratorCount,
            AcceleratorHourlyPriceUsd = Accelerator?.HourlyPriceUsd,
            PricingDefaults = PricingDefaults,
        };
    }

    private static Accelerator? ProfileAccelerator(RuntimeModel profile, string parameter)
    {
        try
        {
            return Accelerators.ForProfile(profile.Metadata);
        }
        catch (KeyNotFoundException ex)
        {
            throw new ArgumentException($"The idealized profile '{ProfileName(profile)}' names an unknown accelerator: {ex.Message} Fix its metadata's accelerator_name or set EfficiencyMetricsOptions.Accelerator.", parameter, ex);
        }
    }

    private static int? AsCount(long? tokens) => tokens is >= 0 and <= int.MaxValue ? (int)tokens.Value : null;

    private static string ProfileName(RuntimeModel model) => model.Metadata.ModelName ?? "(unnamed)";

    private static void CheckMetric(RuntimeModel model, RuntimeMetric expected, string property, string other)
    {
        var metric = model.Metadata.Metric;
        if (metric == RuntimeMetric.Unspecified || metric == expected)
        {
            return;
        }

        var article = expected == RuntimeMetric.Idealized ? "an" : "a";
        var swapped = metric is RuntimeMetric.Idealized or RuntimeMetric.Denoised;
        var fix = swapped ? $"pass it as {other} and {article} {expected} profile here" : $"pass {article} {expected} profile";
        throw new ArgumentException($"{property} '{ProfileName(model)}' is a {metric} profile, not {expected}; {fix}.", property);
    }
}
