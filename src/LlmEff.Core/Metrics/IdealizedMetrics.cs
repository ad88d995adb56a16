using LlmEff.Core.Analysis;
using LlmEff.Core.Architecture;
using LlmEff.Core.Hardware;

namespace LlmEff.Core.Metrics;

/// <summary>
/// The paper's scale-aware metrics (§4.2): idealized dollar cost <c>t × n × c</c> and idealized energy
/// <c>t × n × p</c>, where <c>t</c> is the idealized runtime in seconds, <c>n</c> the accelerators serving one
/// request, <c>c</c> the price per accelerator-second and <c>p</c> the accelerator's power draw in watts.
/// </summary>
public static class IdealizedMetrics
{
    /// <summary>Idealized dollar cost in US dollars: <c>runtimeSeconds × acceleratorCount × pricePerAcceleratorSecondUsd</c>.</summary>
    public static double DollarCostUsd(double runtimeSeconds, int acceleratorCount, double pricePerAcceleratorSecondUsd)
    {
        CheckRuntime(runtimeSeconds);
        ArgumentOutOfRangeException.ThrowIfLessThan(acceleratorCount, 1);
        if (!double.IsFinite(pricePerAcceleratorSecondUsd) || pricePerAcceleratorSecondUsd < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(pricePerAcceleratorSecondUsd), pricePerAcceleratorSecondUsd, "The price per accelerator-second must be finite and non-negative (hourly price / 3600).");
        }

        return runtimeSeconds * acceleratorCount * pricePerAcceleratorSecondUsd;
    }

    /// <summary>Idealized dollar cost in US dollars at <paramref name="accelerator"/>'s <see cref="Accelerator.PricePerSecondUsd"/>.</summary>
    public static double DollarCostUsd(double runtimeSeconds, int acceleratorCount, Accelerator accelerator)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        return DollarCostUsd(runtimeSeconds, acceleratorCount, accelerator.PricePerSecondUsd);
    }

    /// <summary>Idealized energy in joules: <c>runtimeSeconds × acceleratorCount × powerWatts</c>.</summary>
    public static double EnergyJoules(double runtimeSeconds, int acceleratorCount, double powerWatts)
    {
        CheckRuntime(runtimeSeconds);
        ArgumentOutOfRangeException.ThrowIfLessThan(acceleratorCount, 1);
        if (!double.IsFinite(powerWatts) || powerWatts < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(powerWatts), powerWatts, "Power must be a finite, non-negative number of watts, e.g. 400 for an A100.");
        }

        return runtimeSeconds * acceleratorCount * powerWatts;
    }

    /// <summary>Idealized energy in joules at <paramref name="accelerator"/>'s board power.</summary>
    public static double EnergyJoules(double runtimeSeconds, int acceleratorCount, Accelerator accelerator)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        return EnergyJoules(runtimeSeconds, acceleratorCount, accelerator.BoardPowerWatts);
    }

    /// <summary>Idealized dollar cost of one query <c>(p, o)</c> under <paramref name="runtime"/>.</summary>
    public static double QueryDollarCostUsd(RuntimeModel runtime, int promptTokens, int outputTokens, int acceleratorCount, Accelerator accelerator)
    {
        ArgumentNullException.ThrowIfNull(runtime);
        return DollarCostUsd(runtime.Predict(promptTokens, outputTokens), acceleratorCount, accelerator);
    }

    /// <summary>Idealized energy in joules of one query <c>(p, o)</c> under <paramref name="runtime"/>.</summary>
    public static double QueryEnergyJoules(RuntimeModel runtime, int promptTokens, int outputTokens, int acceleratorCount, Accelerator accelerator)
    {
        ArgumentNullException.ThrowIfNull(runtime);
        return EnergyJoules(runtime.Predict(promptTokens, outputTokens), acceleratorCount, accelerator);
    }

    /// <summary>
    /// FLOPs of one query (the FLOPs metric of the paper's Figure 9): <see cref="TransformerFlops.Query"/>. An empty
    /// prompt still encodes one (start) token, so <paramref name="promptTokens"/> = 0 counts as 1.
    /// </summary>
    public static double QueryFlops(TransformerArchitecture architecture, int promptTokens, int outputTokens, FlopCountOptions? options = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(promptTokens);
        return TransformerFlops.Query(architecture, Math.Max(1, promptTokens), outputTokens, 1, options);
    }

    private static void CheckRuntime(double runtimeSeconds)
    {
        if (!double.IsFinite(runtimeSeconds) || runtimeSeconds < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(runtimeSeconds), runtimeSeconds, "A runtime must be a finite, non-negative number of seconds.");
        }
    }
}
