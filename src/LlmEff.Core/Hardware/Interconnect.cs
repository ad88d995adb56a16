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
        return ValidateTiming(null);
    }

    /// <summary>
    /// The latency and bandwidth checks of <see cref="Validate"/>, naming <paramref name="parameter"/> (a caller's argument
    /// holding this link) instead of the property where given: a negative or NaN value would give Infinity or NaN seconds.
    /// </summary>
    internal Interconnect ValidateTiming(string? parameter)
    {
        if (!double.IsFinite(LatencySeconds) || LatencySeconds < 0)
        {
            throw new ArgumentOutOfRangeException(parameter ?? nameof(LatencySeconds), LatencySeconds, $"Interconnect '{Name}' has latency {LatencySeconds} s; give a finite, non-negative LatencySeconds (see Interconnects for measured links).");
        }

        if (!double.IsFinite(BusBandwidthBytesPerSecond) || BusBandwidthBytesPerSecond <= 0)
        {
            throw new ArgumentOutOfRangeException(parameter ?? nameof(BusBandwidthBytesPerSecond), BusBandwidthBytesPerSecond, $"Interconnect '{Name}' has bus bandwidth {BusBandwidthBytesPerSecond} B/s; give a finite, positive BusBandwidthBytesPerSecond (see Interconnects for measured links).");
        }

        return this;
    }
}
