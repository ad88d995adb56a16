using LlmEff.Core.Architecture;
using LlmEff.Profiling.Torch.Model;

namespace LlmEff.Profiling.Torch.Profiling;

/// <summary>
/// Device memory a profiling run needs: the weights, the KV cache at the largest <c>p + o</c>, and a workspace for
/// prompt-encoding activations plus the CUDA context and library workspaces.
/// </summary>
/// <param name="WeightBytes">Parameters × bytes per element (norms, kept in fp32, are a rounding error).</param>
/// <param name="KvCacheBytes">KV cache for <c>capacity</c> tokens, with the query slot of each row (see <see cref="CacheBytes"/>).</param>
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
        ArgumentOutOfRangeException.ThrowIfLessThan(capacityTokens, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPromptTokens, 1);
        long bytes = precision.BytesPerElement();
        long h = architecture.HiddenSize, p = maxPromptTokens;
        long up = architecture.Ffn == FfnKind.Gated ? 2L * architecture.FfnHiddenSize : architecture.FfnHiddenSize;
        // A few live [p, h]-sized tensors, the QKV and FFN intermediates, fp32 norm copies, attention scores when the
        // math kernel runs (ALiBi masks), and fp32 logits of the last position.
        var activations = (p * ((6 * h) + (2 * up) + (h + (2L * architecture.KeyValueWidth))) * bytes)
            + (p * h * 8)
            + (architecture.Heads * p * p * bytes)
            + (architecture.VocabularySize * 4L);
        return new GpuMemoryRequirement(
            architecture.ParameterCount * bytes,
            CacheBytes(architecture, capacityTokens, precision),
            activations + FixedOverheadBytes);
    }

    /// <summary>
    /// Bytes of <see cref="Model.GreedyDecoder"/>'s cache: per layer and token the keys and values (Core's
    /// <see cref="TransformerArchitecture.KvCacheElementsPerToken"/>) plus an <c>h</c>-wide query slot.
    /// </summary>
    public static long CacheBytes(TransformerArchitecture architecture, int capacityTokens, ModelPrecision precision)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        return (architecture.KvCacheElementsPerToken + ((long)architecture.Layers * architecture.HiddenSize)) * capacityTokens * precision.BytesPerElement();
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
    public void EnsureFits(long availableBytes, string modelName, long? totalBytesPerGpu = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(availableBytes);
        if (availableBytes >= TotalBytes)
        {
            return;
        }

        var per = Math.Max(1, (totalBytesPerGpu ?? availableBytes) - FixedOverheadBytes);
        throw new InsufficientGpuMemoryException(modelName, this, availableBytes, GpusNeeded(per));
    }
}
