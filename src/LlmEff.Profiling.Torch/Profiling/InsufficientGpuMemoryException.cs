using System.Globalization;

namespace LlmEff.Profiling.Torch;

/// <summary>The model, its KV cache and workspace do not fit the GPU; says how much is needed, available, and how many GPUs would do.</summary>
public sealed class InsufficientGpuMemoryException : InvalidOperationException
{
    /// <summary>Creates the exception with a message stating needed and available memory and the GPUs that would fit.</summary>
    /// <param name="modelName">Named in the message.</param>
    /// <param name="requirement">What was needed.</param>
    /// <param name="availableBytes">Free memory found.</param>
    /// <param name="gpusNeeded">GPUs of this kind that would hold it.</param>
    /// <param name="advice">What to do instead; defaults to tensor parallelism over <paramref name="gpusNeeded"/> GPUs or a smaller plan.</param>
    public InsufficientGpuMemoryException(string modelName, GpuMemoryRequirement requirement, long availableBytes, int gpusNeeded, string? advice = null)
        : base(string.Format(
            CultureInfo.InvariantCulture,
            "{0} needs {1:F1} GiB (weights {2:F1} GiB + KV cache {3:F1} GiB + workspace {4:F1} GiB) but the GPU has {5:F1} GiB free; {7}",
            modelName,
            Gib(requirement?.TotalBytes ?? 0),
            Gib(requirement?.WeightBytes ?? 0),
            Gib(requirement?.KvCacheBytes ?? 0),
            Gib(requirement?.WorkspaceBytes ?? 0),
            Gib(availableBytes),
            gpusNeeded,
            advice ?? string.Format(CultureInfo.InvariantCulture, "it would fit on {0} such GPUs with tensor parallelism (profile a shard: TorchProfilerOptions.Shard or ParallelProfiler), or profile a smaller plan (shorter prompts/outputs) or precision.", gpusNeeded)))
    {
        ArgumentNullException.ThrowIfNull(requirement);
        Requirement = requirement;
        AvailableBytes = availableBytes;
        GpusNeeded = gpusNeeded;
    }

    /// <summary>What was needed.</summary>
    public GpuMemoryRequirement Requirement { get; }

    /// <summary>Free memory found on the GPU, in bytes.</summary>
    public long AvailableBytes { get; }

    /// <summary>GPUs of this kind that together would hold the model.</summary>
    public int GpusNeeded { get; }

    private static double Gib(long bytes) => bytes / (double)(1L << 30);
}
