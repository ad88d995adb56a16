using System.Diagnostics;
using System.Globalization;
using System.Text;
using LlmEff.Core;
using LlmEff.Core.Architecture;
using LlmEff.Core.Batching;
using LlmEff.Core.Hardware;
using LlmEff.Core.Serialization;
using Microsoft.Extensions.Logging;
using TorchSharp;
using static TorchSharp.torch;

namespace LlmEff.Profiling.Torch.Gpu;

/// <summary>
/// Static batching on one GPU: the decode step at p = 1536 for b = 1, 2, 4, ... up to the memory limit against
/// max((weights + b KV caches) / copy rate, FLOPs / matmul rate); the batched runtime model fitted on a small (p, o, b)
/// grid and checked on random held-out (p, o, b) queries at batch sizes it was not profiled at; cost per query against
/// batch size and the latency-bounded optimum. Writes batching-*.json/csv and batching.md under the output folder.
/// </summary>
internal static partial class BatchingBenchmark
{
    private const int Seed = 4242;

    public static Dictionary<string, object?> Run(
        TransformerArchitecture arch, DecoderOptions options, Device device, bool smoke, int maxBatchCap, string outDir,
        double bandwidth, double matmulFlops, ILogger log, StringBuilder markdown, bool stepsOnly = false, bool oneCallStep = false, bool attentionKernel = true)
    {
        var r = new Dictionary<string, object?> { ["model"] = arch.Name };
        var stepPrompt = smoke ? 32 : 1536;
        var (gridPrompts, gridOutputs) = Grid(smoke);
        // 63 steps after the first token: the prefill in both terms of the difference, up to 1.3 s at b = 32, cancels better than over 32.
        var stepOutputs = smoke ? 8 : 64;
        var capacity = gridPrompts.Max() + gridOutputs.Max() - 1;
        var precision = options.Precision;
        var (memoryLimit, profiled) = BatchSizes(arch, ModelShard.Full, precision, capacity, maxBatchCap, r);
        var bMax = profiled[^1];
        // Held-out batch sizes lie between the profiled ones (each needs its own captured bucket for an exact-b run).
        int[] heldOutBatches = [.. new[] { 3, 6, 12, 24, 48 }.Where(b => b < bMax).Take(smoke ? 1 : 4)];
        if (heldOutBatches.Length == 0)
        {
            heldOutBatches = [bMax];
        }

        log.LogInformation("{Model}: batch sizes {Batches} (memory limit {Limit}), held-out batch sizes {Held}", arch.Name, string.Join(",", profiled), memoryLimit, string.Join(",", heldOutBatches));
        using var model = DecoderTransformer.Create(arch, options, device);
        var weightBytesRead = (arch.ParameterCount - arch.EmbeddingParameters + (arch.TiedEmbeddings ? (long)arch.VocabularySize * arch.HiddenSize : 0)) * (double)precision.BytesPerElement();
        var kvPerTokenPerQuery = arch.KvCacheElementsPerToken * (double)precision.BytesPerElement();
        var gpu = device.type == DeviceType.CUDA ? NvmlGpu.TryOpen(0) : null;

        // 1. Decode step at p = stepPrompt: (t(p, 1 + n) − t(p, 1)) / n, minimum of 3 after a warm-up. One engine per process
        // (the largest bucket's caches fill the GPU, and libtorch keeps a freed decoder's memory): the fused step, or with
        // oneCallStep the baseline, the step as one TorchScript call without the fused kernels.
        List<Dictionary<string, object?>> MeasureSteps(BatchedGreedyDecoder decoder, string what)
        {
            var list = new List<Dictionary<string, object?>>();
            foreach (var b in profiled)
            {
                var n = stepOutputs - 1;

                // The two runs of a step's difference at this b (BestRuns says how each option times them).
                (double One, double Many, double PrefillOfMany) Best(bool warmUp, int idleMs, bool alternate = false, bool splitMany = false)
                    => BestRuns(decoder, pass => Prompts(arch, device, b, stepPrompt, pass), stepOutputs, device, warmUp, idleMs, alternate, splitMany);

                var (t1, tn, _) = Best(warmUp: true, idleMs: 0);
                var step = (tn - t1) / n;

                // The same back-to-back runs with the generating run's prefill timed inside it (a sync at its end): the step is
                // that run's decode part plus the excess of its prefill over t(p, 1)'s, per step. And in alternating order.
                var (s1, sn, sPrefill) = Best(warmUp: false, idleMs: 0, splitMany: true);
                var stepDecodePart = (sn - sPrefill) / n;
                var prefillExcessPerStep = (sPrefill - s1) / n;
                var (a1, an, _) = Best(warmUp: false, idleMs: 0, alternate: true);
                var stepAlternating = (an - a1) / n;

                // The decode steps alone: clock started after the prefill has finished (minimum of 3); and that prefill's own
                // time inside a generating run, beside t1's (where the two differ, the end-to-end step is not the loop's).
                // NVML's SM clock and clock-event reasons right after each pass's prefill and after its decode (lowest clock,
                // reasons OR-ed over the passes): whether the power limiter holds the clocks down into the decode steps.
                var loop = double.MaxValue;
                var prefillInRun = double.MaxValue;
                int? clockAfterPrefill = null, clockAfterDecode = null;
                ulong? reasonsAfterPrefill = null, reasonsAfterDecode = null;
                for (var pass = 0; pass < 3; pass++)
                {
                    using var prompt = Prompts(arch, device, b, stepPrompt, pass);
                    Stopwatch? clock = null;
                    DeviceLimits.Sync(device);
                    var whole = Stopwatch.StartNew();
                    using var tokens = decoder.Generate(prompt, stepOutputs, () =>
                    {
                        DeviceLimits.Sync(device);
                        prefillInRun = Math.Min(prefillInRun, whole.Elapsed.TotalSeconds);
                        (clockAfterPrefill, reasonsAfterPrefill) = Clocks(gpu, clockAfterPrefill, reasonsAfterPrefill); // before the loop's clock starts
                        clock = Stopwatch.StartNew();
                    });
                    DeviceLimits.Sync(device);
                    loop = Math.Min(loop, clock!.Elapsed.TotalSeconds / n);
                    (clockAfterDecode, reasonsAfterDecode) = Clocks(gpu, clockAfterDecode, reasonsAfterDecode);
                }

                // The same end-to-end step with each run started after half a second idle (b >= 8, where the end-to-end step
                // has run above the loop alone, or the largest b of a smaller run): a generating run's prefill right after a
                // one-token run's prefill may run at clocks the power limiter has lowered, which the loop alone, timed from
                // after its prefill, never sees.
                double? afterIdle = null;
                if (b >= Math.Min(8, profiled[^1]))
                {
                    var (i1, iN, _) = Best(warmUp: false, idleMs: 500);
                    afterIdle = (iN - i1) / n;
                }

                var context = stepPrompt + (n / 2.0);
                var memBound = (weightBytesRead + (b * kvPerTokenPerQuery * context)) / bandwidth;
                var flops = b * ((2.0 * (arch.ParameterCount - arch.EmbeddingParameters + (arch.TiedEmbeddings ? (long)arch.VocabularySize * arch.HiddenSize : 0))) + (4.0 * arch.Layers * arch.Heads * arch.HeadDim * context));
                var computeBound = flops / matmulFlops;
                var bound = Math.Max(memBound, computeBound);
                list.Add(new Dictionary<string, object?>
                {
                    ["b"] = b, ["step_seconds"] = step, ["step_alternating_seconds"] = stepAlternating, ["step_decode_part_seconds"] = stepDecodePart, ["prefill_excess_per_step_seconds"] = prefillExcessPerStep, ["step_after_idle_seconds"] = afterIdle, ["decode_loop_step_seconds"] = loop, ["memory_bound_seconds"] = memBound, ["compute_bound_seconds"] = computeBound,
                    ["over_larger_bound"] = step / bound, ["alternating_over_larger_bound"] = stepAlternating / bound, ["prefill_seconds"] = t1, ["prefill_in_generating_run_seconds"] = prefillInRun, ["prefill_tokens_per_second"] = b * stepPrompt / t1,
                    ["sm_clock_after_prefill_mhz"] = clockAfterPrefill, ["clock_reasons_after_prefill"] = reasonsAfterPrefill,
                    ["sm_clock_after_decode_mhz"] = clockAfterDecode, ["clock_reasons_after_decode"] = reasonsAfterDecode,
                });
                if (gpu is not null)
                {
                    log.LogInformation("{Model} b={B}: SM clock after prefill {C1} MHz (reasons 0x{R1:x}), after decode {C2} MHz (reasons 0x{R2:x})", arch.Name, b, clockAfterPrefill, reasonsAfterPrefill ?? 0, clockAfterDecode, reasonsAfterDecode ?? 0);
                }

                log.LogInformation("{Model} {What} b={B}: in alternating order {Alt:F3} ms ({AltRatio:F2}x); back to back split: decode part {Dec:F3} ms + prefill excess {Ex:F3} ms a step", arch.Name, what, b, stepAlternating * 1e3, stepAlternating / bound, stepDecodePart * 1e3, prefillExcessPerStep * 1e3);
                log.LogInformation("{Model} {What} b={B}: decode step {Step:F3} ms (after idle {Idle} ms, decode loop alone {Loop:F3} ms), bound {Bound:F3} ms ({Kind}), {Ratio:F2}x; prefill {Pf:F4} s (in a generating run {PfRun:F4} s)", arch.Name, what, b, step * 1e3, afterIdle is { } ai ? (ai * 1e3).ToString("F3", CultureInfo.InvariantCulture) : "-", loop * 1e3, bound * 1e3, memBound >= computeBound ? "memory" : "compute", step / bound, t1, prefillInRun);
                if (decoder.UsesFusedKernels)
                {
                    // Where the fused step's time goes: each piece alone in a graph (microseconds per step, all layers).
                    var pieces = decoder.MeasureStepPieces(b, stepPrompt);
                    list[^1]["pieces_us"] = pieces.ToDictionary(kv => kv.Key, kv => Math.Round(kv.Value * 1e6, 1));
                    log.LogInformation("{Model} b={B} pieces (us): {Pieces}", arch.Name, b, string.Join(", ", pieces.Select(kv => FormattableString.Invariant($"{kv.Key} {kv.Value * 1e6:F0}"))));
                }
            }

            return list;
        }

        var engine = (oneCallStep ? "one-call step" : attentionKernel ? "fused step" : "fused step, SDPA attention");
        var build = Stopwatch.StartNew();
        using var decoder = new BatchedGreedyDecoder(model, capacity, stepsOnly ? profiled : [.. profiled.Concat(heldOutBatches).Distinct()], CudaGraphMode.Auto, GreedyDecoder.DefaultWindowTokens, availableBytes: null, fusedKernels: !oneCallStep, attentionKernel: attentionKernel);
        DeviceLimits.Sync(device);
        r["engine"] = engine;
        r["build_and_capture_seconds"] = build.Elapsed.TotalSeconds;
        r["uses_cuda_graphs"] = decoder.UsesCudaGraphs;
        r["uses_fused_kernels"] = decoder.UsesFusedKernels;
        r["uses_attention_kernel"] = decoder.UsesAttentionKernel;
        var steps = MeasureSteps(decoder, engine);
        r["decode_steps"] = steps;
        r["decode_max_over_bound"] = steps.Max(s => (double)s["over_larger_bound"]!);
        r["decode_max_over_bound_alternating"] = steps.Max(s => (double)s["alternating_over_larger_bound"]!);

        void StepTable()
        {
            markdown.AppendLine(CultureInfo.InvariantCulture, $"Engine: {engine} (fused kernels {decoder.UsesFusedKernels}, decode attention kernel {decoder.UsesAttentionKernel}).\n");
            markdown.AppendLine("| b | decode step (ms) | alternating order (ms) | back to back: decode part + prefill excess (ms) | runs after 0.5 s idle (ms) | decode loop alone (ms) | step as graph replays (ms) | memory bound (ms) | compute bound (ms) | step / larger bound (back to back; alternating) | prefill p=" + stepPrompt + " (s) |");
            markdown.AppendLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
            foreach (var s in steps)
            {
                var replayed = s.TryGetValue("pieces_us", out var pieces) && pieces is Dictionary<string, double> us ? (us["step"] / 1e3).ToString("F3", CultureInfo.InvariantCulture) : "-";
                var idle = s["step_after_idle_seconds"] is double d ? (d * 1e3).ToString("F3", CultureInfo.InvariantCulture) : "-";
                markdown.AppendLine(CultureInfo.InvariantCulture, $"| {s["b"]} | {(double)s["step_seconds"]! * 1e3:F3} | {(double)s["step_alternating_seconds"]! * 1e3:F3} | {(double)s["step_decode_part_seconds"]! * 1e3:F3} + {(double)s["prefill_excess_per_step_seconds"]! * 1e3:F3} | {idle} | {(double)s["decode_loop_step_seconds"]! * 1e3:F3} | {replayed} | {(double)s["memory_bound_seconds"]! * 1e3:F3} | {(double)s["compute_bound_seconds"]! * 1e3:F3} | {(double)s["over_larger_bound"]!:F2}; {(double)s["alternating_over_larger_bound"]!:F2} | {(double)s["prefill_seconds"]!:F4} |");
            }
        }

        if (stepsOnly)
        {
            markdown.AppendLine(CultureInfo.InvariantCulture, $"## {arch.Name} (decode steps only, {engine})\n");
            StepTable();
            markdown.AppendLine();
            return r;
        }

        // 2. The small grid: warm every (b, p) shape once, then two trials, trial-major.
        var samples = new List<ProfilingSample>();
        var label = $"torchsharp:{arch.Name}:{precision.ShortName()}";
        var gridTime = Stopwatch.StartNew();
        for (var trial = -1; trial < 2; trial++)
        {
            foreach (var b in profiled)
            {
                foreach (var p in gridPrompts)
                {
                    using var prompt = Prompts(arch, device, b, p, 100 + trial);
                    foreach (var o in trial < 0 ? [1] : gridOutputs)
                    {
                        var seconds = Time(decoder, prompt, o, device);
                        if (trial >= 0)
                        {
                            samples.Add(new ProfilingSample(p, o, seconds) { Trial = trial, Source = label, BatchSize = b });
                        }
                    }
                }
            }
        }

        r["grid_seconds"] = gridTime.Elapsed.TotalSeconds;
        var file = arch.Name.Replace('/', '_');
        ProfilingSampleCsv.WriteFile(Path.Combine(outDir, $"batching-{file}-samples.csv"), samples);
        var fit = BatchedRuntimeModel.Fit(samples, RuntimeFitOptions.Default with
        {
            Decode = DecodeModel.ContextLinear,
            KeepNonPhysicalFit = true,
            Metadata = new RuntimeModelMetadata { ModelName = arch.Name, Hardware = TorchProfiler.DescribeHardware(device), AcceleratorCount = 1, Software = TorchProfiler.DescribeSoftware(precision), Source = label },
        });
        File.WriteAllText(Path.Combine(outDir, $"batching-{file}-model.json"), fit.ToJson());
        r["fit_error"] = fit.FitError;
        r["leave_one_batch_size_out_error"] = fit.LeaveOneBatchSizeOutError;
        r["fit_warnings"] = fit.BatchModels.SelectMany(m => m.Warnings).Select(w => w.ToString()).ToArray();

        // 3. Held-out random queries at unprofiled batch sizes, measured separately (one warm-up pass, minimum of two).
        var rng = new Random(Seed);
        var held = Enumerable.Range(0, smoke ? 6 : 30)
            .Select(i => (P: rng.Next(1, gridPrompts.Max() + 1), O: rng.Next(1, gridOutputs.Max() + 1), B: heldOutBatches[rng.Next(heldOutBatches.Length)], I: i)).ToList();
        var best = new double[held.Count];
        Array.Fill(best, double.MaxValue);
        var heldTime = Stopwatch.StartNew();
        for (var pass = -1; pass < 2; pass++)
        {
            foreach (var (p, o, b, i) in held)
            {
                using var prompt = Prompts(arch, device, b, p, 1000 + i);
                var seconds = Time(decoder, prompt, o, device);
                if (pass >= 0)
                {
                    best[i] = Math.Min(best[i], seconds);
                }
            }
        }

        r["heldout_seconds"] = heldTime.Elapsed.TotalSeconds;
        var heldSamples = held.Select(q => new ProfilingSample(q.P, q.O, best[q.I]) { BatchSize = q.B }).ToList();
        var heldError = fit.Evaluate(heldSamples);
        r["heldout_error"] = heldError;
        r["heldout_queries"] = held.Select(q => new { p = q.P, o = q.O, b = q.B, measured = best[q.I], predicted = PredictOrNull(fit, q.P, q.O, q.B) }).ToArray();
        log.LogInformation("{Model}: held-out {Error}; leave-one-batch-size-out {Loo}", arch.Name, heldError, fit.LeaveOneBatchSizeOutError);

        markdown.AppendLine(CultureInfo.InvariantCulture, $"## {arch.Name}\n");
        markdown.AppendLine(CultureInfo.InvariantCulture, $"Profiled b = {string.Join(", ", profiled)} (engine memory limit {memoryLimit}); grid p = {{{string.Join(", ", gridPrompts)}}}, o = {{{string.Join(", ", gridOutputs)}}}, 2 trials.\n");
        StepTable();

        markdown.AppendLine(CultureInfo.InvariantCulture, $"\nHeld-out ({heldError.Count} random (p, o, b), b in {{{string.Join(", ", heldOutBatches)}}}): median {heldError.Median:P2}, max {heldError.Max:P2}. Fit error: {fit.FitError}. Leave-one-batch-size-out: {fit.LeaveOneBatchSizeOutError?.ToString() ?? "n/a"}.\n");

        // 4. Cost per query against batch size at p = max, o = max on an H100 price, and the cheapest batch under latency bounds.
        CostPerQuery(fit, arch, 1, capacity, gridPrompts.Max(), gridOutputs.Max(), profiled, r, markdown);
        markdown.AppendLine();
        return r;
    }

    /// <summary>
    /// Cost per query against batch size at (p, o) on N of the GPUs that ran (H100s where the name is unknown), and the cheapest batch under time-per-token bounds of 1.5,
    /// 2 and 4 × batch 1's. A non-physical fit (noisy timings) cannot price every batch: record why and keep the rest.
    /// </summary>
    private static void CostPerQuery(BatchedRuntimeModel fit, TransformerArchitecture arch, int accelerators, int capacity, int costP, int costO, List<int> profiled, Dictionary<string, object?> r, StringBuilder markdown)
    {
        try
        {
            // Priced as the GPU that ran (an H200 run priced at an H100's rate would understate its cost); H100 where unknown.
            var accelerator = Accelerators.FromHardwareName(fit.Metadata.Hardware) ?? Accelerators.H100_SXM;
            var plan = BatchMemoryPlan.For(arch, accelerator, capacity, accelerators);
            var curve = BatchServing.ChooseBatchSize(fit, costP, costO, accelerator, accelerators, memory: plan).Candidates;
            r["cost_curve"] = curve.Where(c => profiled.Contains(c.BatchSize) || c.BatchSize == curve[^1].BatchSize)
                .Select(c => new { b = c.BatchSize, latency_seconds = c.LatencySeconds, tpot_seconds = c.TimePerOutputTokenSeconds, cost_per_query_usd = c.CostPerQueryUsd, energy_per_query_joules = c.EnergyPerQueryJoules }).ToArray();
            var tpot1 = curve[0].TimePerOutputTokenSeconds;
            var bounds = new[] { 1.5, 2.0, 4.0 }.Select(f => new BatchLatencyBound { MaxTimePerOutputTokenSeconds = tpot1 * f }).ToArray();
            var choices = bounds.Select(bd => (bd, choice: BatchServing.ChooseBatchSize(fit, costP, costO, accelerator, accelerators, memory: plan, bound: bd))).ToArray();
            r["latency_bounded_optimum"] = choices.Select(c => new { bound = c.bd.ToString(), best_b = c.choice.Best?.BatchSize, cost_per_query_usd = c.choice.Best?.CostPerQueryUsd, explanation = c.choice.Explanation }).ToArray();

            markdown.AppendLine(CultureInfo.InvariantCulture, $"Cost per query at p = {costP}, o = {costO} ({accelerators} × {accelerator.Name} at {accelerator.HourlyPriceUsd:F2} USD/h each; memory fits {plan.MaximumBatchSize} queries):\n");
            markdown.AppendLine("| b | latency (s) | TPOT (ms) | USD per query | J per query |");
            markdown.AppendLine("|---:|---:|---:|---:|---:|");
            foreach (var c in curve.Where(c => profiled.Contains(c.BatchSize)))
            {
                markdown.AppendLine(CultureInfo.InvariantCulture, $"| {c.BatchSize} | {c.LatencySeconds:F3} | {c.TimePerOutputTokenSeconds * 1e3:F2} | {c.CostPerQueryUsd:E3} | {c.EnergyPerQueryJoules:F1} |");
            }

            markdown.AppendLine();
            foreach (var (bd, choice) in choices)
            {
                markdown.AppendLine(CultureInfo.InvariantCulture, $"- {bd}: {choice.Explanation}");
            }
        }
        catch (InvalidOperationException ex)
        {
            r["cost_error"] = ex.Message;
            markdown.AppendLine(CultureInfo.InvariantCulture, $"Cost per query not computed: {ex.Message}");
        }
    }

    /// <summary>The (p, o) grid every batch size is profiled on.</summary>
    private static (int[] Prompts, int[] Outputs) Grid(bool smoke) => smoke
        ? ([1, 16, 32], [1, 4, 8])
        : ([1, 256, 768, 1536], [1, 16, 64]);

    /// <summary>
    /// Batch sizes 1, 2, 4, ... up to the engine's memory estimate for the model (or shard) in the GPU's free memory, or
    /// up to the cap on the CPU; both recorded in <paramref name="r"/>.
    /// </summary>
    private static (int MemoryLimit, List<int> Profiled) BatchSizes(TransformerArchitecture arch, ModelShard shard, ModelPrecision precision, int capacity, int maxBatchCap, Dictionary<string, object?> r)
    {
        long free = NvmlGpu.TryOpen(0)?.Query().FreeMemoryBytes ?? long.MaxValue;
        var memoryLimit = free == long.MaxValue ? maxBatchCap : GpuMemoryRequirement.LargestBatchSize(arch, shard.Resolve(arch), precision, capacity, capacity, (long)(free * 0.9));
        var profiled = new List<int>();
        for (var b = 1; b <= Math.Min(memoryLimit, maxBatchCap); b *= 2)
        {
            profiled.Add(b);
        }

        r["memory_limit_batch"] = memoryLimit;
        r["profiled_batch_sizes"] = profiled;
        return (memoryLimit, profiled);
    }

    /// <summary>The prediction, or null where a non-physical fit has none (counted as a 100% error by Evaluate).</summary>
    private static double? PredictOrNull(BatchedRuntimeModel fit, int p, int o, int b)
    {
        try
        {
            return fit.Predict(p, o, b);
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>Random prompt ids <c>[b, p]</c> on the device, the same for the same (b, p, salt).</summary>
    private static Tensor Prompts(TransformerArchitecture arch, Device device, int b, int p, int salt)
    {
        using var generator = new Generator((ulong)((Seed * 1_000_003L) + (b * 7919L) + (p * 31L) + salt));
        using var ids = randint(0, arch.VocabularySize, [b, p], ScalarType.Int64, CPU, generator: generator);
        return device.type == DeviceType.CPU ? ids.clone() : ids.to(device);
    }


}
