namespace LlmEff.Core.Hardware;

/// <summary>
/// A link between accelerators for the communication model: per-collective latency <c>α</c> and bus bandwidth
/// <c>B</c> in NCCL's sense (<c>busbw</c>: for an all-reduce over N ranks of S bytes, time = α + 2(N−1)/N · S / B).
/// </summary>
/// <param name="Name">Name, e.g. <c>NVLink4</c>.</param>
/// <param name="LatencySeconds">Fixed cost of one collective or transfer, seconds.</param>
/// <param name="BusBandwidthBytesPerSecond">Achievable bus bandwidth, bytes per second.</param>
/// <param name="Source">Where the numbers come from (measured, datasheet, benchmark), with a date.</param>
public sealed record Interconnect(string Name, double LatencySeconds, double BusBandwidthBytesPerSecond, string Source)
{
    /// <summary>Checks the parameters; throws with the offending value otherwise.</summary>
    /// <returns>This instance.</returns>
    public Interconnect Validate()
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(Name);
        if (!double.IsFinite(LatencySeconds) || LatencySeconds < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(LatencySeconds), LatencySeconds, $"{Name}: latency is a finite, non-negative number of seconds.");
        }

        if (!double.IsFinite(BusBandwidthBytesPerSecond) || BusBandwidthBytesPerSecond <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(BusBandwidthBytesPerSecond), BusBandwidthBytesPerSecond, $"{Name}: bus bandwidth is a finite, positive number of bytes per second.");
        }

        return this;
    }
}
