using LlmEff.Core.Architecture;
using LlmEff.Core.Hardware;

namespace LlmEff.Core.Workloads;

/// <summary>
/// One model as served for estimation: its runtime model and, for cost and energy, the accelerator and how many
/// serve one request; for FLOPs, its architecture.
/// </summary>
/// <param name="Name">Label for results, e.g. the model name.</param>
/// <param name="Runtime">Fitted, published or roofline <see cref="RuntimeModel"/>.</param>
public sealed record ServingConfiguration(string Name, RuntimeModel Runtime)
{
    /// <summary>The accelerator type; without it cost and energy are not estimated.</summary>
    public Accelerator? Accelerator { get; init; }

    /// <summary>Accelerators serving one request; null means <see cref="RuntimeModelMetadata.AcceleratorCount"/> of <see cref="Runtime"/>, else 1.</summary>
    public int? AcceleratorCount { get; init; }

    /// <summary>The model's shape; without it FLOPs are not estimated.</summary>
    public TransformerArchitecture? Architecture { get; init; }

    /// <summary>The accelerator count actually used: <see cref="AcceleratorCount"/>, the runtime's metadata, or 1.</summary>
    public int EffectiveAcceleratorCount => AcceleratorCount ?? Runtime.Metadata.AcceleratorCount ?? 1;

    /// <summary>A configuration named after the runtime model's metadata (or <c>model</c>).</summary>
    public static ServingConfiguration For(RuntimeModel runtime, Accelerator? accelerator = null, int? acceleratorCount = null)
    {
        ArgumentNullException.ThrowIfNull(runtime);
        return new ServingConfiguration(runtime.Metadata.ModelName ?? "model", runtime) { Accelerator = accelerator, AcceleratorCount = acceleratorCount };
    }
}
