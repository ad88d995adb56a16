using System.Diagnostics;
using System.Globalization;
using System.Text;
using LlmEff.Core;
using LlmEff.Core.Architecture;
using LlmEff.Core.Hardware;
using Microsoft.Extensions.Logging;
using static TorchSharp.torch;

namespace LlmEff.Profiling.Torch.Gpu;

// A Table 1 model under batching at its tensor-parallel degree (the batching mode's --model of a multi-GPU model).
internal static partial class BatchingBenchmark
{
    /// <summary>
    /// A Table 1 model at its tensor-parallel degree, emulated: rank 0's shard profiled in static batches on this GPU
    /// through the library (<see cref="ParallelProfiler"/> with a batched plan), each batch size's collectives added from
    /// Core's communication model, then cost per query against batch size on N accelerators.
    /// </summary>
    public static Dictionary<string, object?> RunParallel(
        TransformerArchitecture arch, int tensorParallel, DecoderOptions options, Device device, bool smoke, int maxBatchCap, string outDir, ILogger log, StringBuilder markdown)
    {
        var r = new Dictionary<string, object?> { ["model"] = arch.Name, ["tensor_parallel"] = tensorParallel };
        var (gridPrompts, gridOutputs) = Grid(smoke);
        var capacity = gridPrompts.Max() + gridOutputs.Max() - 1;
        var (memoryLimit, profiled) = BatchSizes(arch, new ModelShard { TensorParallelDegree = tensorParallel, PipelineStages = 1 }, options.Precision, capacity, maxBatchCap, r);
        log.LogInformation("{Model}: rank 0 of {N}-way, batch sizes {Batches} (shard memory limit {Limit})", arch.Name, tensorParallel, string.Join(",", profiled), memoryLimit);
        var plan = new ProfilingPlan { PromptTokens = gridPrompts, OutputTokens = gridOutputs, Trials = 2, WarmupRuns = 1, BatchSizes = profiled };
        var profilerOptions = new TorchProfilerOptions { Device = device.ToString(), Model = options, MeasureEnergy = false };
        // As the dense models' fit above: context-aware decode, and a noisy batch size's fit kept with its warnings.
        var parallel = new ParallelProfileOptions
        {
            TensorParallelDegree = tensorParallel,
            PipelineStages = 1,
            Accelerator = Accelerators.H100_SXM,
            FitOptions = RuntimeFitOptions.Default with { Decode = DecodeModel.ContextLinear, KeepNonPhysicalFit = true },
        };
        var sw = Stopwatch.StartNew();
        var result = new ParallelProfiler(profilerOptions, parallel, new ConsoleLoggerFactory()).Run(arch, plan, outDir);
        r["profile_seconds"] = sw.Elapsed.TotalSeconds;
        var fit = result.BatchedModel!;
        var shardFit = result.BatchedShardModel!;
        var file = arch.Name.Replace('/', '_').Replace(' ', '_');
        File.WriteAllText(Path.Combine(outDir, $"batching-{file}-tp{tensorParallel}-model.json"), fit.ToJson());
        r["fit_error"] = fit.FitError;
        r["leave_one_batch_size_out_error"] = fit.LeaveOneBatchSizeOutError;
        var perBatch = profiled.Select((b, i) => new
        {
            b,
            shard_g_seconds = shardFit.BatchModels[i].PerOutputTokenSeconds,
            shard_g1_seconds_per_token = shardFit.BatchModels[i].PerOutputTokenContextSeconds,
            g_with_collectives_seconds = fit.BatchModels[i].PerOutputTokenSeconds,
            pe_1536_seconds = fit.BatchModels[i].PromptEncodingSeconds(gridPrompts.Max()),
        }).ToArray();
        r["per_batch"] = perBatch;

        markdown.AppendLine(CultureInfo.InvariantCulture, $"## {arch.Name}, {tensorParallel}-way tensor parallel (emulated from rank 0's shard)\n");
        markdown.AppendLine(CultureInfo.InvariantCulture, $"Profiled b = {string.Join(", ", profiled)} (shard memory limit {memoryLimit}); grid p = {{{string.Join(", ", gridPrompts)}}}, o = {{{string.Join(", ", gridOutputs)}}}, 2 trials; collectives over {result.TensorParallelLink.Name}.\n");
        markdown.AppendLine("| b | shard g0 (ms) | g0 + collectives (ms) | PE(" + gridPrompts.Max() + ") with collectives (s) |");
        markdown.AppendLine("|---:|---:|---:|---:|");
        foreach (var x in perBatch)
        {
            markdown.AppendLine(CultureInfo.InvariantCulture, $"| {x.b} | {x.shard_g_seconds * 1e3:F3} | {x.g_with_collectives_seconds * 1e3:F3} | {x.pe_1536_seconds:F4} |");
        }

        markdown.AppendLine(CultureInfo.InvariantCulture, $"\nFit error: {fit.FitError}. Leave-one-batch-size-out: {fit.LeaveOneBatchSizeOutError?.ToString() ?? "n/a"}.\n");
        CostPerQuery(fit, arch, tensorParallel, capacity, gridPrompts.Max(), gridOutputs.Max(), profiled, r, markdown);
        markdown.AppendLine();
        return r;
    }
}
