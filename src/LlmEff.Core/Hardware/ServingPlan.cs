namespace LlmEff.Core.Hardware;

/// <summary>The smallest layout of <see cref="Accelerator"/>s that holds a model, from <see cref="AcceleratorPlanner"/>.</summary>
/// <param name="ModelName">The architecture's name.</param>
/// <param name="Accelerator">The accelerator type.</param>
/// <param name="TensorParallelDegree">Accelerators sharing each layer (divides the attention heads).</param>
/// <param name="PipelineStages">Consecutive groups of layers (divides the layer count); 1 without pipeline parallelism.</param>
/// <param name="WeightBytes">All weights.</param>
/// <param name="KvCacheBytes">The KV cache over all accelerators, counting key/value heads replicated when the tensor-parallel degree exceeds them.</param>
/// <param name="UsableBytesPerAccelerator">Memory per accelerator after the reserve.</param>
public sealed record ServingPlan(
    string ModelName,
    Accelerator Accelerator,
    int TensorParallelDegree,
    int PipelineStages,
    double WeightBytes,
    double KvCacheBytes,
    double UsableBytesPerAccelerator)
{
    /// <summary><c>n</c> of the paper's idealized cost and energy: tensor-parallel degree × pipeline stages.</summary>
    public int AcceleratorCount => TensorParallelDegree * PipelineStages;

    /// <summary>Weights plus KV cache.</summary>
    public double RequiredBytes => WeightBytes + KvCacheBytes;

    /// <summary>Bytes each accelerator holds, assuming an even split.</summary>
    public double BytesPerAccelerator => RequiredBytes / AcceleratorCount;

    /// <summary>Share of each accelerator's usable memory taken.</summary>
    public double MemoryUtilization => BytesPerAccelerator / UsableBytesPerAccelerator;

    /// <inheritdoc />
    public override string ToString() => FormattableString.Invariant(
        $"{ModelName} on {AcceleratorCount} x {Accelerator.Name} (TP {TensorParallelDegree} x PP {PipelineStages}): {RequiredBytes / 1e9:F1} GB, {MemoryUtilization:P0} of usable memory");
}
