using System.Diagnostics;
using System.Text.Json;
using LlmEff.Core.Architecture;
using LlmEff.Core.Hardware;
using static TorchSharp.torch;

namespace LlmEff.Profiling.Torch.Gpu;

/// <summary>
/// Mixture-of-experts figures: Mixtral-8x7B as the rank-0 shard of its 2-way deployment (emulated on one H100) and
/// Qwen3-30B-A3B whole on one GPU (its bf16 weights, 61 GB, fit an 80 GB card), on a reduced paper grid; g against the
/// bound of the bytes a decode step actually reads (the shard's weights less its unrouted experts, plus the KV cache at
/// the grid's mean context) over the copy bandwidth measured in the same run.
/// </summary>
internal static class MoeBenchmark
{
    public static readonly (string Name, int TensorParallel)[] Layouts =
    [
        ("Qwen/Qwen3-30B-A3B", 1),
        ("mistralai/Mixtral-8x7B-v0.1", 2),
    ];

    public static List<object?> RunAll(Device device, bool smoke, string outDir, string? only, Action save)
    {
        var results = new List<object?>();
        foreach (var (name, tp) in Layouts)
        {
            if (only is not null && !name.Contains(only, StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            results.Add(RunOne(name, tp, device, smoke, outDir));
            save();
        }

        return results;
    }

    private static Dictionary<string, object?> RunOne(string name, int tp, Device device, bool smoke, string outDir)
    {
        var arch = ArchitectureCatalog.Get(name);
        if (smoke)
        {
            // The same mixture shrunk to a CPU-sized model (checks the harness only).
            arch = arch with { HiddenSize = 64, Heads = 8, KeyValueHeads = 4, HeadDim = 16, Layers = 2, VocabularySize = 1000, FfnHiddenSize = 64, ExpertFfnHiddenSize = 32, MaxContextTokens = 128 };
        }

        var r = new Dictionary<string, object?> { ["model"] = name, ["tensor_parallel"] = tp, ["parameters"] = arch.ParameterCount, ["active_parameters"] = arch.ActiveParameterCount };
        try
        {
            var bandwidth = DeviceLimits.CopyBandwidthBytesPerSecond(device, smoke ? 1L << 24 : 4L << 30, smoke ? 3 : 20);
            r["copy_bandwidth_bytes_per_second"] = bandwidth;
            // The paper's prompts without 1,536 and outputs {1, 4, 16, 64}, two trials: about two minutes a model on an H100.
            var plan = smoke
                ? new ProfilingPlan { PromptTokens = [1, 8, 16], OutputTokens = [1, 2, 4, 8], Trials = 1, WarmupRuns = 1 }
                : new ProfilingPlan { PromptTokens = [1, 256, 512, 1024], OutputTokens = [1, 4, 16, 64], Trials = 2, WarmupRuns = 1 };
            r["plan"] = new { prompts = plan.PromptTokens, outputs = plan.OutputTokens, plan.Trials };
            var profilerOptions = new TorchProfilerOptions
            {
                Device = device.ToString(),
                Model = smoke ? new DecoderOptions { Precision = ModelPrecision.Float32 } : DecoderOptions.Default,
            };
            var parallel = tp > 1 ? new ParallelProfileOptions { TensorParallelDegree = tp, Accelerator = Accelerators.H100_SXM } : null;
            var sw = Stopwatch.StartNew();
            var folder = new ProfileFolderOptions { Architecture = arch, OutputDirectory = outDir, Plan = plan, Profiler = profilerOptions, Parallel = parallel };
            var result = TorchProfiler.ProfileToFolderAsync(folder, loggers: new ConsoleLoggerFactory()).GetAwaiter().GetResult();
            r["profile_seconds"] = sw.Elapsed.TotalSeconds;
            var shardFit = result.Parallel?.StageShardModels[0] ?? result.Model;
            var shape = (tp > 1 ? ModelShard.TensorParallel(tp) : ModelShard.Full).Resolve(arch);
            r["pe_knots"] = shardFit.PromptEncoding.Knots.Select(k => new[] { k.X, k.Y }).ToArray();
            r["g_seconds"] = shardFit.PerOutputTokenSeconds;
            r["r_squared"] = shardFit.RSquared;
            r["g_with_collectives_seconds"] = result.Model.PerOutputTokenSeconds;

            // Bytes one decode step reads on this shard: its weights less the experts no token is routed to and the
            // embedding table (one row looked up), plus the KV cache at the grid's mean context.
            var bytes = (double)profilerOptions.Model.Precision.BytesPerElement();
            var matrices = arch.Ffn == FfnKind.Gated ? 3.0 : 2.0;
            var unrouted = (double)shape.Layers * (arch.Experts - arch.ExpertsPerToken) * matrices * arch.HiddenSize * shape.FfnHiddenSize;
            var embedding = (double)shape.VocabularyRows * arch.HiddenSize;
            var meanContext = plan.PromptTokens.Average() + (plan.MaxOutputTokens / 2.0);
            var readBytes = ((shape.ParameterCount(arch) - unrouted - embedding + arch.HiddenSize) * bytes) + (shape.KvCacheElementsPerToken * bytes * meanContext);
            var bound = readBytes / bandwidth;
            r["decode_bytes_read"] = readBytes;
            r["bound_seconds"] = bound;
            r["g_over_bound"] = shardFit.PerOutputTokenSeconds / bound;
            r["runtime_model_file"] = Path.GetFileName(result.ModelPath);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            r["error"] = ex.ToString();
        }

        File.WriteAllText(Path.Combine(outDir, $"moe-{ProfileFiles.Slug(name)}.json"), JsonSerializer.Serialize(r, new JsonSerializerOptions { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals }));
        return r;
    }
}
