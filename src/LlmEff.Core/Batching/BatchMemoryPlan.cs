using System.Globalization;
using LlmEff.Core.Analysis;
using LlmEff.Core.Architecture;
using LlmEff.Core.Hardware;

namespace LlmEff.Core.Batching;

/// <summary>
/// Whether a batch fits: the weights plus one KV cache of <see cref="ContextTokens"/> per query must fit the accelerators'
/// memory less a reserve, with <see cref="AcceleratorPlanner"/>'s arithmetic (key/value heads replicated past the
/// tensor-parallel degree's share). <see cref="MaximumBatchSize"/> says how many queries fit.
/// </summary>
/// <param name="ModelName">The architecture's name.</param>
/// <param name="AcceleratorCount">Accelerators holding the model (tensor-parallel degree × pipeline stages).</param>
/// <param name="ContextTokens">KV-cache positions per query, <c>p + o − 1</c> at most.</param>
/// <param name="WeightBytes">All weights, over all accelerators.</param>
/// <param name="KvCacheBytesPerQuery">One query's KV cache of <see cref="ContextTokens"/> positions, over all accelerators.</param>
/// <param name="UsableBytes">Memory of all the accelerators after the reserve.</param>
public sealed record BatchMemoryPlan(
    string ModelName,
    int AcceleratorCount,
    int ContextTokens,
    double WeightBytes,
    double KvCacheBytesPerQuery,
    double UsableBytes)
{
    /// <summary>Largest batch whose weights and KV caches fit; 0 when even the weights do not.</summary>
    public int MaximumBatchSize => WeightBytes > UsableBytes
        ? 0
        : (int)Math.Min(int.MaxValue, Math.Floor((UsableBytes - WeightBytes) / KvCacheBytesPerQuery));

    /// <summary>Bytes a batch of <paramref name="batchSize"/> needs: weights plus <paramref name="batchSize"/> KV caches.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batchSize"/> is below 1.</exception>
    public double RequiredBytes(int batchSize)
    {
        ThrowIfBelowOne(batchSize);
        return WeightBytes + (KvCacheBytesPerQuery * batchSize);
    }

    /// <summary>True when a batch of <paramref name="batchSize"/> fits.</summary>
    public bool Fits(int batchSize) => RequiredBytes(batchSize) <= UsableBytes;

    /// <summary>Throws, before anything is allocated, when a batch of <paramref name="batchSize"/> does not fit; the message gives the memory needed and the largest batch that fits.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The batch does not fit, or <paramref name="batchSize"/> is below 1.</exception>
    public void EnsureFits(int batchSize)
    {
        if (!Fits(batchSize))
        {
            throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, string.Create(CultureInfo.InvariantCulture,
                $"A batch of {batchSize} of {ModelName} at {ContextTokens} tokens of context needs {RequiredBytes(batchSize) / 1e9:F1} GB (weights {WeightBytes / 1e9:F1} GB + {batchSize} × {KvCacheBytesPerQuery / 1e9:F2} GB KV cache) but {AcceleratorCount} accelerator(s) hold {UsableBytes / 1e9:F1} GB after the reserve; the largest batch that fits is {MaximumBatchSize}. Use a batch of at most {MaximumBatchSize}, a shorter context or more accelerators."));
        }
    }

    /// <summary>
    /// The plan of <paramref name="architecture"/> on <paramref name="accelerator"/>s
    /// as <paramref name="tensorParallelDegree"/>-way tensor parallelism (the rest pipeline stages).
    /// </summary>
    /// <param name="architecture">The model.</param>
    /// <param name="accelerator">The accelerator type.</param>
    /// <param name="contextTokens">KV-cache positions per query (<c>p + o − 1</c>); at least 1.</param>
    /// <param name="tensorParallelDegree">Accelerators sharing each layer; at least 1. Default 1.</param>
    /// <param name="pipelineStages">Consecutive groups of layers; at least 1. Default 1.</param>
    /// <param name="requirements">Precision and reserve (its batch size and context are ignored); <see cref="ServingRequirements.Default"/> when null.</param>
    /// <exception cref="ArgumentOutOfRangeException">A count is below 1.</exception>
    public static BatchMemoryPlan For(
        TransformerArchitecture architecture,
        Accelerator accelerator,
        int contextTokens,
        int tensorParallelDegree = 1,
        int pipelineStages = 1,
        ServingRequirements? requirements = null)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        ArgumentNullException.ThrowIfNull(accelerator);
        ArgumentOutOfRangeException.ThrowIfLessThan(contextTokens, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(tensorParallelDegree, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(pipelineStages, 1);
        architecture.Validate();
        accelerator.Validate();
        var req = (requirements ?? ServingRequirements.Default).Validate();
        var count = tensorParallelDegree * pipelineStages;
        // As AcceleratorPlanner: each tensor-parallel rank holds at least one key/value head.
        var replication = Math.Max(architecture.KeyValueHeads, tensorParallelDegree) / (double)architecture.KeyValueHeads;
        var kv = MemoryTraffic.KvCacheBytes(architecture, req.Precision, contextTokens) * replication;
        return new BatchMemoryPlan(
            architecture.Name,
            count,
            contextTokens,
            MemoryTraffic.WeightBytes(architecture, req.Precision),
            kv,
            accelerator.MemoryBytes * (1.0 - req.ReserveFraction) * count);
    }

    private static void ThrowIfBelowOne(int batchSize)
    {
        if (batchSize < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "A batch holds 1 or more queries; pass batchSize >= 1.");
        }
    }
}
