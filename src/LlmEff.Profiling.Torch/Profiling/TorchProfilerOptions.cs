
namespace LlmEff.Profiling.Torch;

/// <summary>Options of <see cref="TorchProfiler"/>. Defaults profile in bf16 on the first CUDA GPU.</summary>
public sealed record TorchProfilerOptions
{
    /// <summary>Shared default instance.</summary>
    public static TorchProfilerOptions Default { get; } = new();

    /// <summary>TorchSharp device string: <c>cuda</c>, <c>cuda:1</c>, <c>cpu</c>. Default <c>cuda:0</c>.</summary>
    public string Device { get; init; } = "cuda:0";

    /// <summary>How the random-weight model is built (precision, seed). Default bf16, seed 0.</summary>
    public DecoderOptions Model { get; init; } = DecoderOptions.Default;

    /// <summary>
    /// Check before building the model that weights, KV cache and workspace fit the GPU's free memory (read with NVML),
    /// failing with <see cref="InsufficientGpuMemoryException"/>. Default true; skipped on the CPU or without NVML.
    /// </summary>
    public bool CheckMemory { get; init; } = true;

    /// <summary>
    /// Measure each query's GPU energy with NVML's energy counter into <see cref="LlmEff.Core.ProfilingSample.EnergyJoules"/>.
    /// Default true; on the CPU, or without NVML or the counter, a message is logged and profiling goes on without energy.
    /// </summary>
    public bool MeasureEnergy { get; init; } = true;

    /// <summary>
    /// Counter updates an energy measurement must span; short queries are repeated until they do, and the energy is the
    /// total over the repetitions. Default 10, which bounds the counter's quantisation error to about 10% of one
    /// query's energy even when the counter moves in steps as long as its interval.
    /// </summary>
    public int EnergyWindowIntervals { get; init; } = 10;

    /// <summary>Trials whose points also get an energy measurement (the first ones). Default 1: energy needs no denoising by trials
    /// as much as time does, and the repetitions cost profiling time.</summary>
    public int EnergyTrials { get; init; } = 1;

    /// <summary>
    /// GPU memory this process's PyTorch allocator already holds from a model it has released, counted as available by
    /// the memory check: NVML reports cached blocks as used, but the allocator reuses them. Default 0.
    /// <see cref="ParallelProfiler"/> sets it to the largest shard it has already run in this process.
    /// </summary>
    public long ReusableMemoryBytes { get; init; }

    /// <summary>
    /// Which shard of the model to build and time: <see cref="ModelShard.Full"/> (default) for the whole model, or one
    /// rank of a tensor/pipeline-parallel deployment, timed exactly as that rank runs its part of generation except for
    /// the collectives (see <see cref="ParallelProfiler"/>, which adds their modelled time).
    /// </summary>
    public ModelShard Shard { get; init; } = ModelShard.Full;

    /// <summary>
    /// Whether decode steps replay captured CUDA graphs (see <see cref="GreedyDecoder"/>, and for a real tensor-parallel
    /// run <see cref="TensorParallelDecoder"/>, whose captured steps hold the NCCL all-reduces). Default
    /// <see cref="CudaGraphMode.Auto"/>: on a CUDA GPU where libtorch's graph entry points are found, else eagerly; the
    /// profile's software description says which ran.
    /// </summary>
    public CudaGraphMode CudaGraphs { get; init; } = CudaGraphMode.Auto;

    /// <summary>
    /// Largest prompt whose prefill is replayed as a CUDA graph where decode steps are captured (one graph per prompt size,
    /// captured before its first timed query). Default <see cref="GreedyDecoder.DefaultPrefillGraphMaxTokens"/> (512): an
    /// interpreted prefill of a few tokens is bound by the host issuing its ops, and its time swings with the host's state
    /// (on an H100, Llama-3-8B's PE(1) between 7.4 and 12.7 ms). 0 interprets every prefill, as profiles measured before
    /// prefill graphs did. Batched and real tensor-parallel runs interpret their prefill.
    /// </summary>
    public int PrefillGraphMaxTokens { get; init; } = GreedyDecoder.DefaultPrefillGraphMaxTokens;

    /// <summary>
    /// Idle time before each timed query or batch (warm-up runs and energy repetitions are not delayed). Default zero: the
    /// grid is timed back to back, as the paper profiled. Timing a run right after another heavy prefill can slow its
    /// decode steps: on an H100, 16 Llama-3-8B queries at p = 1,536 decoded 9 % slower per step back to back than after
    /// 0.5 s idle, which matched their decode loop timed alone (docs/benchmarks.md, static batching). Half a second
    /// removes that from <c>g</c>, at half a second of profiling per timed point.
    /// </summary>
    public TimeSpan IdleBeforeEachQuery { get; init; }

    /// <summary>
    /// Clock of the <see cref="IdleBeforeEachQuery"/> waits and of the profile's <c>MeasuredUtc</c> stamp; a test passes a
    /// fake one. Runtimes are always measured with the stopwatch. Default <see cref="TimeProvider.System"/>.
    /// </summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Label stored in each sample's <c>source</c> column; default <c>torchsharp:&lt;model&gt;:&lt;dtype&gt;</c> when null.</summary>
    public string? SourceLabel { get; init; }
}
