namespace LlmEff.Core.Hardware;

/// <summary>
/// One accelerator's serving-relevant specification and rental price. Built-ins live in <see cref="Accelerators"/>;
/// build your own with the constructor (and <c>with</c> to change a price).
/// </summary>
/// <param name="Name">Name, e.g. <c>A100-80GB</c>.</param>
/// <param name="MemoryBytes">Device memory in bytes, as the driver reports it.</param>
/// <param name="PeakDenseFlopsPerSecond">Peak dense (no sparsity) fp16/bf16 matrix throughput, FLOP/s.</param>
/// <param name="MemoryBandwidthBytesPerSecond">Peak device-memory bandwidth, bytes/s.</param>
/// <param name="BoardPowerWatts">Board power (TDP), watts: the <c>p</c> of the paper's idealized energy.</param>
/// <param name="HourlyPriceUsd">Rental price per accelerator-hour in US dollars: the <c>c</c> of the paper's idealized cost.</param>
public sealed record Accelerator(
    string Name,
    long MemoryBytes,
    double PeakDenseFlopsPerSecond,
    double MemoryBandwidthBytesPerSecond,
    double BoardPowerWatts,
    double HourlyPriceUsd)
{
    /// <summary>Vendor, e.g. <c>NVIDIA</c>.</summary>
    public string? Vendor { get; init; }

    /// <summary>Where the hardware figures come from (datasheet, driver query).</summary>
    public string? SpecSource { get; init; }

    /// <summary>Where <see cref="HourlyPriceUsd"/> comes from (provider, instance, region).</summary>
    public string? PriceSource { get; init; }

    /// <summary>When the price was taken from <see cref="PriceSource"/>; prices change, so check before relying on it.</summary>
    public DateOnly? PriceDate { get; init; }

    /// <summary>Price per accelerator-second in US dollars: <c>HourlyPriceUsd / 3600</c>.</summary>
    public double PricePerSecondUsd => HourlyPriceUsd / 3600.0;

    /// <summary>Device memory in GiB (2^30 bytes), for display.</summary>
    public double MemoryGibibytes => MemoryBytes / (double)(1L << 30);

    /// <summary>Ridge point of the roofline: FLOPs per byte above which a kernel is compute-bound at peak.</summary>
    public double RidgeFlopsPerByte => PeakDenseFlopsPerSecond / MemoryBandwidthBytesPerSecond;

    /// <summary>Checks every figure is finite and positive (price may be 0); throws naming the field otherwise.</summary>
    /// <returns>This instance, for chaining.</returns>
    public Accelerator Validate()
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(Name);
        ArgumentOutOfRangeException.ThrowIfLessThan(MemoryBytes, 1L, nameof(MemoryBytes));
        Positive(PeakDenseFlopsPerSecond, nameof(PeakDenseFlopsPerSecond), "FLOP/s, e.g. 312e12 for an A100");
        Positive(MemoryBandwidthBytesPerSecond, nameof(MemoryBandwidthBytesPerSecond), "bytes/s, e.g. 2.039e12 for an A100-80GB");
        Positive(BoardPowerWatts, nameof(BoardPowerWatts), "watts, e.g. 400 for an A100");
        if (!double.IsFinite(HourlyPriceUsd) || HourlyPriceUsd < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(HourlyPriceUsd), HourlyPriceUsd, $"{Name}: the hourly price must be a finite, non-negative number of US dollars.");
        }

        return this;
    }

    /// <inheritdoc />
    public override string ToString() => FormattableString.Invariant(
        $"{Name}: {MemoryGibibytes:F1} GiB, {PeakDenseFlopsPerSecond / 1e12:F0} TFLOP/s, {MemoryBandwidthBytesPerSecond / 1e12:F2} TB/s, {BoardPowerWatts:F0} W, ${HourlyPriceUsd:F2}/h");

    private void Positive(double value, string name, string example)
    {
        if (!double.IsFinite(value) || value <= 0)
        {
            throw new ArgumentOutOfRangeException(name, value, $"{Name}: {name} must be finite and positive, in {example}.");
        }
    }
}
