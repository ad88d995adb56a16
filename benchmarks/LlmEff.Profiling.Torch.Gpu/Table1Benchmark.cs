using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using LlmEff.Core;
using LlmEff.Core.Architecture;
using LlmEff.Core.Hardware;
using Microsoft.Extensions.Logging;
using static TorchSharp.torch;

namespace LlmEff.Profiling.Torch.Gpu;

/// <summary>
/// Table 1 figures: every Table 1 model at the paper's GPU counts (Table 1: tensor-parallel degree × pipeline stages),
/// profiled on one GPU as rank-0 shards with <see cref="ParallelProfiler"/>, with the per-rank memory roofline beside it.
/// </summary>
internal static class Table1Benchmark
{
    // Table 1's "# GPUs": 1, 4 and 8 are tensor parallel within a server; TNLG v2's 24 are 8-way tensor x 3-way pipeline.
    // Ordered cheapest first, so a run that hits its deadline has the most models.
    public static readonly (string Name, int TensorParallel, int Stages)[] Layouts =
    [
        ("EleutherAI/GPT-J", 1, 1),
        ("AI21/J1-Large v1", 1, 1),
        ("AI21/J1-Grande v1", 1, 1),
        ("Cohere/XL v20220609", 4, 1),
        ("Anthropic/v4-s3", 4, 1),
        ("Yandex/YaLM", 4, 1),
        ("OpenAI/davinci", 8, 1),
        ("BigScience/BL00M", 8, 1),
        ("AI21/J1-Jumbo v1", 8, 1),
        ("Microsoft+NV/TNLG v2", 8, 3),
    ];

    // Energy is measured on one single-GPU model and one shard (per rank), where its repetitions cost least.
    private static readonly HashSet<string> EnergyModels = ["EleutherAI/GPT-J", "Cohere/XL v20220609"];

    /// <param name="energy">
    /// Energy mode: every model again on a small grid with NVML energy on every point, into
    /// <c>energy-*.json</c>; its timings are not the Table 1 figures (those come from the timing mode).
    /// </param>
    /// <param name="alignFfn">
    /// False stores odd FFN widths exactly (<see cref="DecoderOptions.AlignFfnWidth"/>), to measure what the alignment is
    /// worth against a run with it.
    /// </param>
    public static List<object?> RunAll(bool smoke, string outDir, TimeSpan deadline, string? only, Action save, ILogger log, bool energy = false, bool alignFfn = true)
    {
        var results = new List<object?>();
        var clock = Stopwatch.StartNew();
        var self = typeof(Table1Benchmark).Assembly.Location;
        foreach (var (name, tp, stages) in Layouts)
        {
            if (only is not null && !name.Contains(only, StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            if (clock.Elapsed > deadline)
            {
                results.Add(new Dictionary<string, object?> { ["model"] = name, ["skipped"] = "deadline" });
                continue;
            }

            var file = Path.Combine(outDir, $"{(energy ? "energy" : "table1")}-{Slug(name)}.json");
            // Under `dotnet app.dll` the child is `dotnet app.dll ...`; under the apphost it is the apphost itself.
            var host = Environment.ProcessPath!;
            var viaDotnet = Path.GetFileNameWithoutExtension(host).Equals("dotnet", StringComparison.OrdinalIgnoreCase);
            var start = new ProcessStartInfo(host) { UseShellExecute = false };
            foreach (var a in (viaDotnet ? new[] { self } : []).Concat(["--table1-model", name, "--out", outDir]))
            {
                start.ArgumentList.Add(a);
            }

            if (smoke)
            {
                start.ArgumentList.Add("--smoke");
            }

            if (energy)
            {
                start.ArgumentList.Add("--energy");
            }

            if (!alignFfn)
            {
                start.ArgumentList.Add("--no-ffn-align");
            }

            log.LogInformation("Table 1: {Model} ({Tp} x {Stages}) in a child process", name, tp, stages);
            using (var child = Process.Start(start)!)
            {
                child.WaitForExit();
                if (child.ExitCode != 0 && !File.Exists(file))
                {
                    results.Add(new Dictionary<string, object?> { ["model"] = name, ["error"] = $"child process exited with {child.ExitCode}" });
                    save();
                    continue;
                }
            }

            results.Add(JsonSerializer.Deserialize<JsonElement>(File.ReadAllText(file)));
            save();
        }

        return results;
    }

    public static void RunOne(string name, Device device, bool smoke, string outDir, bool energy = false, bool alignFfn = true)
    {
        var log = new ConsoleLogger<ParallelProfiler>();
        var (_, tp, stages) = Layouts.Single(l => l.Name == name);
        var arch = ArchitectureCatalog.PaperTable1.Single(a => a.Name == name);
        if (smoke)
        {
            // Same layout on the CPU with the model shrunk to a few layers of small width (checks the harness only).
            arch = arch with { HiddenSize = 64, Heads = 8, Layers = stages * 2, VocabularySize = 1000, FfnHiddenSize = 64 };
        }

        var r = new Dictionary<string, object?> { ["model"] = name, ["tensor_parallel"] = tp, ["pipeline_stages"] = stages, ["parameters"] = arch.ParameterCount, ["align_ffn_width"] = alignFfn };
        var file = Path.Combine(outDir, $"{(energy ? "energy" : "table1")}-{Slug(name)}.json");
        void Save() => File.WriteAllText(file, JsonSerializer.Serialize(r, new JsonSerializerOptions { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals }));
        try
        {
            var bandwidth = DeviceLimits.CopyBandwidthBytesPerSecond(device, smoke ? 1L << 24 : 4L << 30, smoke ? 3 : 20);
            r["copy_bandwidth_bytes_per_second"] = bandwidth;
            var plan = energy && !smoke ? EnergyPlanFor(arch) : PlanFor(arch, smoke);
            r["plan"] = new { prompts = plan.PromptTokens, outputs = plan.OutputTokens, plan.Trials, plan.WarmupRuns };
            var profilerOptions = new TorchProfilerOptions
            {
                Device = device.ToString(),
                Model = (smoke ? new DecoderOptions { Precision = ModelPrecision.Float32 } : DecoderOptions.Default) with { AlignFfnWidth = alignFfn },
                MeasureEnergy = !smoke && (energy || EnergyModels.Contains(name)),
                EnergyTrials = 1,
            };
            var options = new ParallelProfileOptions { TensorParallelDegree = tp, PipelineStages = stages, Accelerator = Accelerators.H100_SXM };
            var sw = Stopwatch.StartNew();
            // The library's one folder call: samples as measured (resumable), fits and file names as llmeff profile torch.
            var folder = new ProfileFolderOptions { Architecture = arch, OutputDirectory = outDir, Plan = plan, Profiler = profilerOptions, Parallel = options };
            var result = TorchProfiler.ProfileToFolderAsync(folder, loggers: new ConsoleLoggerFactory()).GetAwaiter().GetResult();
            r["profile_seconds"] = sw.Elapsed.TotalSeconds;
            // A 1 x 1 layout is profiled as the whole model on one GPU: its one profile stands for the one stage.
            IReadOnlyList<TorchProfile> stageProfiles = result.Parallel?.StageProfiles ?? [result.Profile!];
            IReadOnlyList<RuntimeModel> stageShardModels = result.Parallel?.StageShardModels ?? [result.Model];
            IReadOnlyList<RuntimeModel> stageModels = result.Parallel?.StageModels ?? [result.Model];
            r["hardware"] = stageProfiles[0].Hardware;
            r["software"] = result.Model.Metadata.Software;
            r["pe_knots"] = result.Model.PromptEncoding.Knots.Select(k => new[] { k.X, k.Y }).ToArray();
            r["g_seconds"] = result.Model.PerOutputTokenSeconds;

            // Per stage: the shard's own fit, its collectives, and its memory roofline at the plan's mean context.
            var bytes = profilerOptions.Model.Precision.BytesPerElement();
            var meanContext = plan.PromptTokens.Average() + (plan.MaxOutputTokens / 2.0);
            var stageRows = new List<object?>();
            double boundTotal = 0, shardBoundTotal = 0, shardGTotal = 0;
            for (var s = 0; s < stages; s++)
            {
                var profile = stageProfiles[s];
                var shape = profile.Shard!;
                var fit = stageShardModels[s];
                var collectives = stageModels[s].PerOutputTokenSeconds - fit.PerOutputTokenSeconds;
                var shardBound = ((shape.ParameterCount(arch) * (double)bytes) + (shape.KvCacheElementsPerToken * (double)bytes * meanContext)) / bandwidth;
                boundTotal += shardBound + collectives;
                shardBoundTotal += shardBound;
                shardGTotal += fit.PerOutputTokenSeconds;
                var row = new Dictionary<string, object?>
                {
                    ["stage"] = s,
                    ["layers"] = shape.Layers,
                    ["shard_parameters"] = shape.ParameterCount(arch),
                    ["shard_pe_knots"] = fit.PromptEncoding.Knots.Select(k => new[] { k.X, k.Y }).ToArray(),
                    ["shard_g_seconds"] = fit.PerOutputTokenSeconds,
                    ["shard_r_squared"] = fit.RSquared,
                    ["collectives_seconds_per_token"] = collectives,
                    ["shard_bound_seconds"] = shardBound,
                    ["shard_g_over_bound"] = fit.PerOutputTokenSeconds / shardBound,
                };
                if (profile.HasEnergy)
                {
                    row["energy_per_rank"] = ModelBenchmark.EnergySummary(profile, fit);
                }

                stageRows.Add(row);
            }

            var transfers = (stages - 1) * CommunicationModel.TransferSeconds(arch.HiddenSize * 2.0, options.PipelineLink);
            boundTotal += transfers;
            r["stages"] = stageRows;
            r["min_stage_r_squared"] = stageShardModels.Min(m => m.RSquared);
            r["bound_with_collectives_seconds"] = boundTotal;
            r["g_over_bound_with_collectives"] = result.Model.PerOutputTokenSeconds / boundTotal;
            r["shard_g_over_shard_bound"] = shardGTotal / shardBoundTotal;
            r["runtime_model_file"] = Path.GetFileName(result.ModelPath);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            log.LogError(ex, "{Model} failed", name);
            r["error"] = ex.ToString();
        }

        Save();
    }

    /// <summary>
    /// The paper's configuration grid (<see cref="ProfilingPlan.Paper"/>): prompt sizes P = {1, 256, 512, 1024, 1536}
    /// (§3.4) × output lengths {1, 2, 4, 8, 16, 32, 64} (the Megatron logs' range), minimum of three trials, one warm-up per
    /// prompt size. Prompts are limited to the model's context (YaLM's is 1,024 tokens).
    /// </summary>
    public static ProfilingPlan PlanFor(TransformerArchitecture arch, bool smoke)
    {
        if (smoke)
        {
            return new ProfilingPlan { PromptTokens = [1, 8, 16], OutputTokens = [1, 2, 4, 8], Trials = 1, WarmupRuns = 1 };
        }

        var paper = ProfilingPlan.Paper with { Trials = 3, WarmupRuns = 1 };
        var maxPrompt = arch.MaxContextTokens - paper.MaxOutputTokens + 1;
        // YaLM's context is 1,024 tokens: its largest prompt is 961 rather than 1,536.
        var prompts = paper.PromptTokens.Where(p => p <= maxPrompt).ToList();
        if (prompts.Count < paper.PromptTokens.Count)
        {
            prompts.Add(maxPrompt);
        }

        return paper with { PromptTokens = prompts };
    }

    /// <summary>Energy mode's grid: three prompt sizes × o ∈ {1, 16, 32}, one trial, every point with energy (≈ 1 s each).</summary>
    public static ProfilingPlan EnergyPlanFor(TransformerArchitecture arch)
    {
        var maxPrompt = Math.Min(1536, arch.MaxContextTokens - 32 + 1);
        return new ProfilingPlan { PromptTokens = [1, 512, maxPrompt], OutputTokens = [1, 16, 32], Trials = 1, WarmupRuns = 1 };
    }

    private static string Slug(string name) => ProfileFiles.Slug(name);
}
