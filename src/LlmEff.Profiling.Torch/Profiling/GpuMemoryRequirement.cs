using LlmEff.Core.Architecture;

namespace LlmEff.Profiling.Torch;

/// <summary>
/// Device memory a profiling run needs: the weights, the KV cache at the largest <c>p + o</c>, and a workspace for
/// prompt-encoding activations plus the CUDA context and library workspaces.
/// </summary>
/// <param name="WeightBytes">Parameters × bytes per element (norms, kept in fp32, are a rounding error).</param>
/// <param name="KvCacheBytes">KV cache for <c>capacity</c> tokens, with the query slot of each row (see <see cref="CacheBytes(ShardShape, int, ModelPrecision)"/>).</param>
/// <param name="WorkspaceBytes">Activations of the largest prompt plus a fixed <see cref="FixedOverheadBytes"/>.</param>
public sealed record GpuMemoryRequirement(long WeightBytes, long KvCacheBytes, long WorkspaceBytes)
{
    /// <summary>CUDA context, cuBLAS workspace and allocator slack: 1 GiB.</summary>
    public const long FixedOverheadBytes = 1L << 30;

    /// <summary>Everything together.</summary>
    public long TotalBytes => WeightBytes + KvCacheBytes + WorkspaceBytes;

    /// <summary>Estimates the memory to run <paramref name="architecture"/> with a cache of <paramref name="capacityTokens"/> and prompts up to <paramref name="maxPromptTokens"/>.</summary>
    public static GpuMemoryRequirement Estimate(TransformerArchitecture architecture, ModelPrecision precision, int capacityTokens, int maxPromptTokens)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        return Estimate(architecture, ModelShard.Full.Resolve(architecture), precision, capacityTokens, maxPromptTokens);
    }

    /// <summary>Estimates the memory one GPU needs to run <paramref name="shard"/> of <paramref name="architecture"/>.</summary>
    public static GpuMemoryRequirement Estimate(TransformerArchitecture architecture, ShardShape shard, ModelPrecision precision, int capacityTokens, int maxPromptTokens)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        ArgumentNullException.ThrowIfNull(shard);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacityTokens, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPromptTokens, 1);
        return new GpuMemoryRequirement(
            shard.ParameterCount(architecture) * precision.BytesPerElement(),
            CacheBytes(shard, capacityTokens, precision),
            Workspace(architecture, shard, precision, maxPromptTokens, 1));
    }

    /// <summary>
    /// Estimates the memory one GPU needs to run a static batch of <paramref name="batchSize"/> queries of <paramref name="shard"/>
    /// (<see cref="BatchedGreedyDecoder"/>): the weights once, one cache of <paramref name="capacityTokens"/> per query, and the
    /// activations of a <c>[b, p]</c> prefill.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A count is below 1.</exception>
    public static GpuMemoryRequirement EstimateBatched(TransformerArchitecture architecture, ShardShape shard, ModelPrecision precision, int capacityTokens, int maxPromptTokens, int batchSize)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        ArgumentNullException.ThrowIfNull(shard);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacityTokens, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPromptTokens, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        return new GpuMemoryRequirement(
            shard.ParameterCount(architecture) * precision.BytesPerElement(),
            CacheBytes(shard, capacityTokens, precision) * batchSize,
            Workspace(architecture, shard, precision, maxPromptTokens, batchSize));
    }

    /// <summary>What to do when a batch does not fit, given <see cref="LargestBatchSize"/>'s answer: the one advice the profiler's check and the batched decoder's give.</summary>
    internal static string BatchAdvice(int capacityTokens, int largest) => largest < 1
        ? "not even one query fits beside the weights; use a tensor-parallel shard or a shorter context."
        : FormattableString.Invariant($"the largest batch that fits at {capacityTokens} tokens of context is {largest}; use batch sizes up to {largest}, a shorter context, or a tensor-parallel shard.");

    /// <summary>The largest batch whose <see cref="EstimateBatched"/> fits <paramref name="availableBytes"/>; 0 when not even one query fits.</summary>
    public static int LargestBatchSize(TransformerArchitecture architecture, ShardShape shard, ModelPrecision precision, int capacityTokens, int maxPromptTokens, long availableBytes)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        ArgumentNullException.ThrowIfNull(shard);
        int lo = 0, hi = 1;
        while (hi < (1 << 20) && EstimateBatched(architecture, shard, precision, capacityTokens, maxPromptTokens, hi).TotalBytes <= availableBytes)
        {
            lo = hi;
            hi *= 2;
        }

        // Every need grows linearly in b: bisect between the last batch that fits and the first that does not.
        while (hi - lo > 1)
        {
            var mid = lo + ((hi - lo) / 2);
            if (EstimateBatched(architecture, shard, precision, capacityTokens, maxPromptTokens, mid).TotalBytes <= availableBytes)
            {
                lo = mid;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }

    /// <summary>
    /// Memory the captured prefill graphs keep (<see cref="GreedyDecoder.PrefillGraphMaxTokens"/>): each graph's pool holds
    /// the activations of its prompt size, for every size of <paramref name="promptTokens"/> up to <paramref name="maxGraphTokens"/>.
    /// </summary>
    internal static long PrefillGraphBytes(TransformerArchitecture architecture, ShardShape shard, ModelPrecision precision, IEnumerable<int> promptTokens, int maxGraphTokens)
        => promptTokens.Distinct().Where(p => p <= maxGraphTokens).Sum(p => Workspace(architecture, shard, precision, p, 1) - FixedOverheadBytes);

    private static long Workspace(TransformerArchitecture architecture, ShardShape shard, ModelPrecision precision, int promptTokens, int batchSize)
    {
        long bytes = precision.BytesPerElement();
        long h = architecture.HiddenSize, p = promptTokens, b = batchSize, n = p * b;
        long up = architecture.Ffn == FfnKind.Gated ? 2L * shard.FfnHiddenSize : shard.FfnHiddenSize;
        // A few live [b·p, h]-sized tensors, the QKV and FFN intermediates, fp32 norm copies, attention scores when the
        // math kernel runs (ALiBi masks), fp32 logits of the last positions, and a later stage's input buffer.
        var activations = (n * ((6 * h) + (2 * up) + ((long)(shard.Heads + (2 * shard.KeyValueHeads)) * shard.HeadDim)) * bytes)
            + (n * h * 8)
            + (b * shard.Heads * p * p * bytes)
            + (b * shard.VocabularyRows * 4L)
            + (shard.HasEmbedding ? 0 : (long)architecture.MaxContextTokens * h * bytes);
        return activations + FixedOverheadBytes;
    }

    /// <summary>
    /// Bytes of <see cref="GreedyDecoder"/>'s cache: per layer and token the keys and values (Core's
    /// <see cref="TransformerArchitecture.KvCacheElementsPerToken"/>) plus an <c>h</c>-wide query slot.
    /// </summary>
    public static long CacheBytes(TransformerArchitecture architecture, int capacityTokens, ModelPrecision precision)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        return CacheBytes(ModelShard.Full.Resolve(architecture), capacityTokens, precision);
    }

    /// <summary>Bytes of a shard's cache: its own heads' keys, values and query slots in its own layers.</summary>
    public static long CacheBytes(ShardShape shard, int capacityTokens, ModelPrecision precision)
    {
        ArgumentNullException.ThrowIfNull(shard);
        return (shard.KvCacheElementsPerToken + ((long)shard.Layers * shard.AttentionWidth)) * capacityTokens * precision.BytesPerElement();
    }

    /// <summary>GPUs of <paramref name="bytesPerGpu"/> each that would hold it (when the model is split evenly).</summary>
    public int GpusNeeded(long bytesPerGpu)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bytesPerGpu, 1);
        return (int)Math.Min(int.MaxValue, (TotalBytes + bytesPerGpu - 1) / bytesPerGpu);
    }

    /// <summary>Throws <see cref="InsufficientGpuMemoryException"/> when <paramref name="availableBytes"/> is less than <see cref="TotalBytes"/>.</summary>
    /// <param name="availableBytes">Free memory on the GPU.</param>
    /// <param name="modelName">Named in the message.</param>
    /// <param name="totalBytesPerGpu">The GPU's whole memory, used to say how many such GPUs would fit it; defaults to <paramref name="availableBytes"/>.</param>
    /// <param name="advice">Replaces the default advice at the end of the message (e.g. how to split a shard further).</param>
    public void EnsureFits(long availableBytes, string modelName, long? totalBytesPerGpu = null, string? advice = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(availableBytes);
        if (availableBytes >= TotalBytes)
        {
            return;
        }

        var per = Math.Max(1, (totalBytesPerGpu ?? availableBytes) - FixedOverheadBytes);
        throw new InsufficientGpuMemoryException(modelName, this, availableBytes, GpusNeeded(per), advice);
    }
}
