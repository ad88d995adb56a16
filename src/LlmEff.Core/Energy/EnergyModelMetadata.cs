namespace LlmEff.Core.Energy;

/// <summary>Where an <see cref="EnergyModel"/> comes from: the model, the hardware and software it was measured on, and when.</summary>
public sealed record EnergyModelMetadata
{
    /// <summary>The profiled model, e.g. <c>EleutherAI/GPT-J</c>; null when unknown.</summary>
    public string? ModelName { get; init; }

    /// <summary>The accelerator and driver, e.g. <c>NVIDIA H100 80GB HBM3 (driver 580.159.04, CUDA 13.0)</c>; null when unknown.</summary>
    public string? Hardware { get; init; }

    /// <summary>The inference engine and its versions; null when unknown.</summary>
    public string? Software { get; init; }

    /// <summary>Free-form origin of the samples (profiler, samples file); null when unknown.</summary>
    public string? Source { get; init; }

    /// <summary>When the energy was measured; null when unknown.</summary>
    public DateTimeOffset? MeasuredUtc { get; init; }

    /// <summary>Anything else worth keeping with the model (plan, shard, sample counts); null when none.</summary>
    public string? Notes { get; init; }
}
