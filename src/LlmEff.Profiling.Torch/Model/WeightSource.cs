using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LlmEff.Profiling.Torch;

/// <summary>
/// Where a model's parameters come from, by name (<c>token_embedding</c>, <c>layers.3.qkv_weight</c>...): fresh random
/// tensors (<see cref="WeightFactory"/>) or slices of an existing model's (a tensor-parallel shard of it).
/// </summary>
internal abstract class WeightSource
{
    public abstract Device Device { get; }

    public abstract ScalarType DType { get; }

    /// <summary>A matrix or bias of the given local shape.</summary>
    public abstract Parameter Random(string name, params long[] shape);

    /// <summary>A norm weight or bias of the given size (<paramref name="value"/> is its fresh value).</summary>
    public abstract Parameter Norm(string name, long size, double value);
}
