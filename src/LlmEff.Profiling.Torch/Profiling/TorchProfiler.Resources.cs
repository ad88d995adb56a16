using System.Runtime.InteropServices;
using LlmEff.Core.Architecture;
using Microsoft.Extensions.Logging;
using TorchSharp;
using static TorchSharp.torch;

namespace LlmEff.Profiling.Torch;

/// <summary>What a run needs and runs on: the memory check before building (with advice for a shard that does not fit) and the hardware and software descriptions of provenance.</summary>
public sealed partial class TorchProfiler
{
    /// <summary>
    /// Memory the plan needs for <paramref name="architecture"/> (the configured shard of it) at this profiler's precision.
    /// A batched plan's workspace is sized for prompts of the whole capacity, as <see cref="BatchedGreedyDecoder"/> checks it,
    /// so a batch this check lets through is not refused after the weights are built. A single-query plan's workspace also
    /// holds the prefill graphs of its prompt sizes up to <see cref="TorchProfilerOptions.PrefillGraphMaxTokens"/>.
    /// </summary>
    public GpuMemoryRequirement MemoryRequirement(TransformerArchitecture architecture, ProfilingPlan plan)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        ArgumentNullException.ThrowIfNull(plan);
        var shard = Options.Shard.Resolve(architecture);
        var need = GpuMemoryRequirement.EstimateBatched(architecture, shard, Options.Model.Precision, plan.CapacityTokens, PromptTokensOfWorkspace(plan), plan.MaxBatchSize);
        if (plan.IsBatched || Options.CudaGraphs == CudaGraphMode.Off)
        {
            return need;
        }

        return need with { WorkspaceBytes = need.WorkspaceBytes + GpuMemoryRequirement.PrefillGraphBytes(architecture, shard, Options.Model.Precision, plan.PromptTokens, Options.PrefillGraphMaxTokens) };
    }

    private static int PromptTokensOfWorkspace(ProfilingPlan plan) => plan.IsBatched ? plan.CapacityTokens : plan.MaxPromptTokens;

    /// <summary>Short description of a shard for logs and provenance, e.g. <c>tensor-parallel rank 0 of 8, stage 1 of 3 (35 layers)</c>; empty for the whole model.</summary>
    public static string Describe(ShardShape shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        if (shape.IsFull)
        {
            return string.Empty;
        }

        var s = shape.Shard;
        return FormattableString.Invariant($"tensor-parallel rank {s.TensorParallelRank} of {s.TensorParallelDegree}, stage {s.PipelineStage} of {s.PipelineStages} ({shape.Layers} layers{(shape.HasEmbedding ? ", embedding" : string.Empty)}{(shape.HasHead ? ", head" : string.Empty)}) ");
    }

    internal void CheckMemory(TransformerArchitecture architecture, ShardShape shape, ProfilingPlan plan, Device device)
    {
        if (device.type != DeviceType.CUDA)
        {
            return;
        }

        var gpu = NvmlGpu.TryOpen(Math.Max(0, device.index));
        if (gpu is null)
        {
            _logger.LogWarning("NVML is not available; skipping the GPU memory check.");
            return;
        }

        var info = gpu.Query();
        ArgumentOutOfRangeException.ThrowIfNegative(Options.ReusableMemoryBytes);
        info = info with { FreeMemoryBytes = Math.Min(info.TotalMemoryBytes, info.FreeMemoryBytes + Options.ReusableMemoryBytes) };
        var need = MemoryRequirement(architecture, plan);
        _logger.LogInformation("{Model} {Shard}needs {Need:F1} GiB; {Gpu} has {Free:F1} GiB free", architecture.Name, Describe(shape), need.TotalBytes / (double)(1L << 30), info.Name, info.FreeMemoryBytes / (double)(1L << 30));
        if (shape.IsFull)
        {
            need.EnsureFits(info.FreeMemoryBytes, architecture.Name, info.TotalMemoryBytes, plan.IsBatched ? BatchAdvice(architecture, shape, plan, info.FreeMemoryBytes) : null);
            return;
        }

        // A shard that still does not fit: say how many more ways to split it.
        need.EnsureFits(info.FreeMemoryBytes, $"{architecture.Name} ({Describe(shape).Trim()})", info.TotalMemoryBytes, ShardAdvice(architecture, shape, need, info.FreeMemoryBytes));
    }

    private string BatchAdvice(TransformerArchitecture architecture, ShardShape shape, ProfilingPlan plan, long freeBytes)
        => GpuMemoryRequirement.BatchAdvice(plan.CapacityTokens, GpuMemoryRequirement.LargestBatchSize(architecture, shape, Options.Model.Precision, plan.CapacityTokens, PromptTokensOfWorkspace(plan), freeBytes));

    private static string ShardAdvice(TransformerArchitecture architecture, ShardShape shape, GpuMemoryRequirement need, long freeBytes)
    {
        var per = Math.Max(1, freeBytes - GpuMemoryRequirement.FixedOverheadBytes);
        var more = (int)Math.Ceiling((double)(need.TotalBytes - GpuMemoryRequirement.FixedOverheadBytes) / per);
        var s = shape.Shard;
        var nextDegree = ModelShard.ValidTensorParallelDegrees(architecture).FirstOrDefault(d => d >= s.TensorParallelDegree * more);
        var tp = nextDegree > 0 ? FormattableString.Invariant($"tensor parallelism {nextDegree}") : "more tensor parallelism than the heads allow";
        return FormattableString.Invariant($"This shard must be split about {more} more ways: use {tp}, or {s.PipelineStages * more} pipeline stages.");
    }

    /// <summary>The GPU's NVML name, or a CPU description.</summary>
    public static string DescribeHardware(Device device)
    {
        ArgumentNullException.ThrowIfNull(device);
        if (device.type == DeviceType.CUDA && NvmlGpu.TryOpen(Math.Max(0, device.index)) is { } gpu)
        {
            var info = gpu.Query();
            return $"{info.Name} ({info.TotalMemoryBytes / (1L << 30)} GiB, driver {info.DriverVersion}, CUDA {info.CudaDriverVersion})";
        }

        return $"{device.type} ({RuntimeInformation.ProcessArchitecture}, {Environment.ProcessorCount} logical processors)";
    }

    /// <summary>The engine and its versions.</summary>
    public static string DescribeSoftware(ModelPrecision precision, bool cudaGraphs = false, bool fusedKernels = false) =>
        DescribeSoftware(precision, cudaGraphs, fusedKernels, attention: null, expertKernels: false);

    /// <summary>The engine and its versions, naming each run-time compiled kernel set its decode steps use (and the attention kernel's forms, which change its times).</summary>
    internal static string DescribeSoftware(ModelPrecision precision, bool cudaGraphs, bool fusedKernels, string? attention, bool expertKernels, int prefillGraphMaxTokens = 0)
    {
        var form = attention is null ? string.Empty : attention + " ";
        var kernels = !fusedKernels
            ? string.Empty
            : (attention is not null, expertKernels) switch
            {
                (false, false) => " and NVRTC-fused norm/rotary kernels",
                (true, false) => $" and NVRTC-fused norm/rotary and {form}decode attention kernels",
                (false, true) => " and NVRTC-fused norm/rotary and expert kernels",
                _ => $" and NVRTC-fused norm/rotary, {form}decode attention and expert kernels",
            };
        // Kernels that start while their predecessor drains change the step's time, so a profile says so.
        if (fusedKernels && CudaRuntimeCompiler.Load().Value is { LaunchesDependents: true })
        {
            kernels += " (launched as programmatic dependents)";
        }

        // Prefill graphs change the short prompts' PE (the interpreted prefill is host-bound there), so a profile says so.
        var prefill = prefillGraphMaxTokens > 0 ? $", CUDA-graph prefill up to {prefillGraphMaxTokens} tokens" : string.Empty;
        return $"LlmEff TorchScript KV-cached greedy decoder{(cudaGraphs ? " with CUDA-graph decode steps" : string.Empty)}{kernels}{prefill}, TorchSharp {typeof(torch).Assembly.GetName().Version}, {RuntimeInformation.FrameworkDescription}, {precision.ShortName()}";
    }
}
