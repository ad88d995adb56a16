namespace LlmEff.Core.Hardware;

/// <summary>
/// Time of the collectives tensor and pipeline parallelism add, from an <see cref="Interconnect"/>'s latency and bus
/// bandwidth (the α–β model with NCCL's bus-bandwidth convention).
/// </summary>
public static class CommunicationModel
{
    /// <summary>Ring all-reduce of <paramref name="bytes"/> over <paramref name="ranks"/> ranks: <c>α + 2(N−1)/N · S / B</c>; 0 for one rank.</summary>
    public static double AllReduceSeconds(double bytes, int ranks, Interconnect interconnect)
    {
        Check(bytes, ranks, interconnect);
        return ranks == 1 ? 0 : interconnect.LatencySeconds + (2.0 * (ranks - 1) / ranks * bytes / interconnect.BusBandwidthBytesPerSecond);
    }

    /// <summary>All-gather producing <paramref name="bytes"/> in total on every rank: <c>α + (N−1)/N · S / B</c>; 0 for one rank.</summary>
    public static double AllGatherSeconds(double bytes, int ranks, Interconnect interconnect)
    {
        Check(bytes, ranks, interconnect);
        return ranks == 1 ? 0 : interconnect.LatencySeconds + ((ranks - 1.0) / ranks * bytes / interconnect.BusBandwidthBytesPerSecond);
    }

    /// <summary>One point-to-point transfer (a pipeline stage boundary): <c>α + S / B</c>.</summary>
    public static double TransferSeconds(double bytes, Interconnect interconnect)
    {
        Check(bytes, 1, interconnect);
        return interconnect.LatencySeconds + (bytes / interconnect.BusBandwidthBytesPerSecond);
    }

    private static void Check(double bytes, int ranks, Interconnect interconnect)
    {
        ArgumentNullException.ThrowIfNull(interconnect);
        interconnect.ValidateTiming(nameof(interconnect));

        if (!double.IsFinite(bytes) || bytes < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(bytes), bytes, "A message size is a finite, non-negative number of bytes.");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(ranks, 1);
    }
}
