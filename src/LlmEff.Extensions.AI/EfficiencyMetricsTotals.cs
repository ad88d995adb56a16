namespace LlmEff.Extensions.AI;

/// <summary>
/// Running totals of <see cref="EfficiencyMetrics"/> over the requests an <see cref="EfficiencyMetricsAccumulator"/>
/// has seen, as one consistent snapshot. Raw runtime is summed over every completed request; the idealized, denoised,
/// cost and energy totals only over requests whose usage was reported (<see cref="RequestsWithUsage"/>), and are
/// <see langword="null"/> when no request contributed to them.
/// </summary>
/// <param name="RequestCount">Completed requests (with or without usage).</param>
/// <param name="RequestsWithUsage">Requests whose token usage was reported (including non-generating ones).</param>
/// <param name="RequestsWithoutUsage">Requests with no usable token usage: counted here, not guessed.</param>
/// <param name="NonGeneratingRequests">Requests that reported 0 output tokens (see <see cref="TokenUsageStatus.NoOutputTokens"/>).</param>
/// <param name="FailedRequests">Calls whose inner client threw (including cancellations); not in <see cref="RequestCount"/>.</param>
/// <param name="TotalPromptTokens">Sum of <c>p</c> over requests with usage.</param>
/// <param name="TotalOutputTokens">Sum of <c>o</c> over requests with usage.</param>
/// <param name="TotalRawRuntimeSeconds">Sum of raw runtimes over every completed request.</param>
/// <param name="TotalIdealizedRuntimeSeconds">Sum of idealized runtimes; null when no request had usage.</param>
/// <param name="TotalDenoisedRuntimeSeconds">Sum of denoised runtimes; null when no request had one.</param>
/// <param name="TotalIdealizedCostUsd">Sum of idealized costs in US dollars; null when no request had one.</param>
/// <param name="TotalIdealizedEnergyJoules">Sum of idealized energies in joules; null when no request had one.</param>
/// <param name="RequestsWithDenoisedRuntime">Requests that got a denoised runtime (usage reported to a client with a denoised profile): what <see cref="TotalDenoisedRuntimeSeconds"/> sums over.</param>
public sealed record EfficiencyMetricsTotals(
    long RequestCount,
    long RequestsWithUsage,
    long RequestsWithoutUsage,
    long NonGeneratingRequests,
    long FailedRequests,
    long TotalPromptTokens,
    long TotalOutputTokens,
    double TotalRawRuntimeSeconds,
    double? TotalIdealizedRuntimeSeconds,
    double? TotalDenoisedRuntimeSeconds,
    double? TotalIdealizedCostUsd,
    double? TotalIdealizedEnergyJoules,
    long RequestsWithDenoisedRuntime)
{
    /// <summary>Mean raw runtime per completed request in seconds; null before the first request.</summary>
    public double? MeanRawRuntimeSeconds => RequestCount == 0 ? null : TotalRawRuntimeSeconds / RequestCount;

    /// <summary>Mean idealized runtime per request with usage in seconds; null when none had usage.</summary>
    public double? MeanIdealizedRuntimeSeconds => RequestsWithUsage == 0 ? null : TotalIdealizedRuntimeSeconds / RequestsWithUsage;

    /// <summary>
    /// Mean denoised runtime per request that got one, in seconds; null when none did. Clients sharing an accumulator
    /// without a denoised profile do not dilute it.
    /// </summary>
    public double? MeanDenoisedRuntimeSeconds => RequestsWithDenoisedRuntime == 0 ? null : TotalDenoisedRuntimeSeconds / RequestsWithDenoisedRuntime;
}
