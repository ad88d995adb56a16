namespace LlmEff.Core;

/// <summary>Provenance of a <see cref="RuntimeModel"/>: which (model, software, hardware) it describes and where its numbers came from.</summary>
public sealed record RuntimeModelMetadata
{
    /// <summary>Model name, e.g. <c>OpenAI/davinci</c>.</summary>
    public string? ModelName { get; init; }

    /// <summary>Which runtime metric this is.</summary>
    public RuntimeMetric Metric { get; init; }

    /// <summary>Hardware, e.g. <c>NVIDIA A100-SXM4-80GB</c>.</summary>
    public string? Hardware { get; init; }

    /// <summary>Accelerators serving one request (tensor-parallel degree × pipeline stages), when known.</summary>
    public int? AcceleratorCount { get; init; }

    /// <summary>
    /// Name of the built-in accelerator (<c>Accelerators.All</c>, e.g. <c>H100-SXM</c>) that prices this profile's idealized
    /// cost and energy, when <see cref="Hardware"/> does not say it plainly; <c>Accelerators.ForProfile</c> reads it.
    /// </summary>
    public string? AcceleratorName { get; init; }

    /// <summary>Rental price per accelerator-hour in US dollars to price this profile with, instead of the accelerator's built-in price.</summary>
    public double? AcceleratorHourlyPriceUsd { get; init; }

    /// <summary>Software stack and versions, e.g. <c>Megatron-LM, fp16</c>.</summary>
    public string? Software { get; init; }

    /// <summary>Where the parameters came from (a paper table, a file, a profiler run).</summary>
    public string? Source { get; init; }

    /// <summary>When the underlying measurements were taken.</summary>
    public DateTimeOffset? MeasuredUtc { get; init; }

    /// <summary>True when the profile was emulated (e.g. one shard plus a communication model) rather than measured whole.</summary>
    public bool Emulated { get; init; }

    /// <summary>Free-form notes.</summary>
    public string? Notes { get; init; }
}
