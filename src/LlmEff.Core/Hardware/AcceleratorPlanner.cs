using LlmEff.Core.Analysis;
using LlmEff.Core.Architecture;

namespace LlmEff.Core.Hardware;

/// <summary>
/// How many accelerators a model needs: weights plus the KV cache for the requested context and batch must fit in
/// each accelerator's memory less a reserve. Tensor parallelism comes first (a degree that divides the attention
/// heads and either divides the key/value heads or is a multiple of them, in which case they are replicated);
/// when even the largest allowed degree is too small, pipeline stages that divide the layer count are added, as
/// Megatron deployments do across servers.
/// </summary>
public static class AcceleratorPlanner
{
    /// <summary>The smallest layout that holds <paramref name="architecture"/> on <paramref name="accelerator"/>.</summary>
    /// <param name="architecture">The model.</param>
    /// <param name="accelerator">The accelerator type.</param>
    /// <param name="requirements">Context, batch, precision, reserve and allowed layouts; <see cref="ServingRequirements.Default"/> when null.</param>
    /// <exception cref="InvalidOperationException">No allowed layout fits; the message says how much memory was needed.</exception>
    public static ServingPlan MinimumAccelerators(TransformerArchitecture architecture, Accelerator accelerator, ServingRequirements? requirements = null)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        ArgumentNullException.ThrowIfNull(accelerator);
        architecture.Validate();
        accelerator.Validate();
        var req = (requirements ?? ServingRequirements.Default).Validate();
        var context = req.ContextTokens ?? architecture.MaxContextTokens;
        var usable = accelerator.MemoryBytes * (1.0 - req.ReserveFraction);
        var weights = MemoryTraffic.WeightBytes(architecture, req.Precision);

        var degrees = TensorParallelDegrees(architecture, req).ToArray();
        if (degrees.Length == 0)
        {
            throw new InvalidOperationException($"{architecture.Name}: no tensor-parallel degree up to {req.MaxTensorParallelDegree} divides its {architecture.Heads} heads and fits its {architecture.KeyValueHeads} key/value heads; raise MaxTensorParallelDegree or allow non-powers of two.");
        }

        foreach (var t in degrees)
        {
            var plan = Plan(t, 1);
            if (plan.BytesPerAccelerator <= usable)
            {
                return plan;
            }
        }

        var widest = degrees[^1];
        if (req.AllowPipelineParallel)
        {
            for (var stages = 2; stages <= architecture.Layers; stages++)
            {
                if (architecture.Layers % stages != 0)
                {
                    continue;
                }

                var plan = Plan(widest, stages);
                if (plan.BytesPerAccelerator <= usable)
                {
                    return plan;
                }
            }
        }

        var largest = Plan(widest, req.AllowPipelineParallel ? architecture.Layers : 1);
        throw new InvalidOperationException(FormattableString.Invariant(
            $"{architecture.Name} needs {largest.RequiredBytes / 1e9:F1} GB (weights + KV cache for {context} tokens × batch {req.BatchSize}) but even {largest.AcceleratorCount} × {accelerator.Name} hold only {usable * largest.AcceleratorCount / 1e9:F1} GB after the {req.ReserveFraction:P0} reserve; use larger accelerators, a smaller context or batch, or allow pipeline parallelism."));

        ServingPlan Plan(int tensor, int stages)
        {
            // Each tensor-parallel rank holds at least one key/value head, so past the KV-head count they are replicated.
            var kvHeadsHeld = Math.Max(architecture.KeyValueHeads, tensor);
            var kvBytes = 2.0 * architecture.Layers * kvHeadsHeld * architecture.HeadDim * req.Precision.KvCacheBytesPerElement * architecture.KvCacheTokens(context) * req.BatchSize;
            return new ServingPlan(architecture.Name, accelerator, tensor, stages, weights, kvBytes, usable);
        }
    }

    /// <summary>Tensor-parallel degrees allowed for <paramref name="architecture"/> under <paramref name="requirements"/>, ascending.</summary>
    public static IEnumerable<int> TensorParallelDegrees(TransformerArchitecture architecture, ServingRequirements requirements)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        ArgumentNullException.ThrowIfNull(requirements);
        for (var t = 1; t <= Math.Min(requirements.MaxTensorParallelDegree, architecture.Heads); t++)
        {
            var powerOfTwo = (t & (t - 1)) == 0;
            if (SplitsHeadsEvenly(architecture, t) && (powerOfTwo || !requirements.PowerOfTwoTensorParallel))
            {
                yield return t;
            }
        }
    }

    /// <summary>Whether <paramref name="degree"/> ranks split the heads evenly: it divides the heads, and divides the key/value heads or is a multiple of them.</summary>
    internal static bool SplitsHeadsEvenly(TransformerArchitecture architecture, int degree)
        => architecture.Heads % degree == 0 && (architecture.KeyValueHeads % degree == 0 || degree % architecture.KeyValueHeads == 0);
}
