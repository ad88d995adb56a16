using LlmEff.Core;

namespace LlmEff.Profiling.Api;

/// <summary>Median, 90th and 99th percentile of one latency over a load level (<see cref="Percentiles"/>, type 7).</summary>
/// <param name="Samples">Values the percentiles are taken over.</param>
/// <param name="P50Seconds">Median.</param>
/// <param name="P90Seconds">90th percentile.</param>
/// <param name="P99Seconds">99th percentile.</param>
public sealed record LatencyPercentiles(int Samples, double P50Seconds, double P90Seconds, double P99Seconds)
{
    /// <summary>The percentiles of <paramref name="seconds"/>; null when there are none (the latency was not measured).</summary>
    public static LatencyPercentiles? Of(IEnumerable<double> seconds)
    {
        ArgumentNullException.ThrowIfNull(seconds);
        var sorted = seconds.Order().ToArray();
        return sorted.Length == 0
            ? null
            : new LatencyPercentiles(sorted.Length, Percentiles.OfSorted(sorted, 50), Percentiles.OfSorted(sorted, 90), Percentiles.OfSorted(sorted, 99));
    }
}
