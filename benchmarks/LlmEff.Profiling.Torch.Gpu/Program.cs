using System.Text.Json;
using LlmEff.Core.Architecture;
using LlmEff.Profiling.Torch.Gpu;
using LlmEff.Profiling.Torch;
using Microsoft.Extensions.Logging;
using TorchSharp;
using static TorchSharp.torch;

// GPU harness: profiles GPT-J-6B-like and Llama-3-8B-like random-weight models on the paper's grid, fits
// the runtime model, checks it on held-out queries, and compares g and PE(1536) with the device's measured limits.
//   bash .gpu/run.sh LlmEff.Profiling.Torch.Gpu --out "$OUT"            (GPU machine)
//   dotnet run --project benchmarks/LlmEff.Profiling.Torch.Gpu -- --smoke  (CPU, tiny model, checks the harness only)
//   bash .gpu/run.sh LlmEff.Profiling.Torch.Gpu --graph-check-only --graph-check --out "$OUT"   (CUDA-graph tokens vs eager, seconds)
//   bash .gpu/run.sh LlmEff.Profiling.Torch.Gpu --batching --out "$OUT"  (static batching: decode step against its bound for
//                                                                         b = 1, 2, 4, ..., batched fit, held-out error, cost per query)
//                                                                         and Cohere XL's 4-way rank-0 shard in batches, emulated
//   dotnet run --project benchmarks/LlmEff.Profiling.Torch.Gpu -- --batching --smoke   (the same on the CPU, tiny model)
//   bash .gpu/run.sh LlmEff.Profiling.Torch.Gpu --moe --out "$OUT"      (mixture-of-experts models, about 2 minutes each, each in
//                                                                         its own child process and folder; --model NAME runs one here)
//   bash .gpu/run.sh LlmEff.Profiling.Torch.Gpu --dense-grid --out "$OUT" (Llama-3-8B on a 27 x 10 grid, then adaptive plans of
//                                                                         20, 30, 50 queries scored on it; --smoke: tiny, CPU)
//   bash .gpu/run.sh LlmEff.Profiling.Torch.Gpu --nccl --out "$OUT"     (only the NCCL all-reduce latencies over all
//                                                                         visible GPUs, a few seconds, then stop)
var smoke = args.Contains("--smoke");
var outIndex = Array.IndexOf(args, "--out");
var outDir = outIndex >= 0 ? args[outIndex + 1] : Path.Combine(Path.GetTempPath(), "llmeff-gpu");
var only = Array.IndexOf(args, "--model") is var mi and >= 0 ? args[mi + 1] : null;
Directory.CreateDirectory(outDir);
var log = new ConsoleLogger<Program>();

var device = smoke ? CPU : torch.device("cuda:0");
// An experiment's split of the decode attention: busy warps its chunks aim for (the engine's default otherwise).
if (Array.IndexOf(args, "--attention-target-warps") is var tw and >= 0)
{
    DecodeAttention.TargetWarpsOverride = int.Parse(args[tw + 1], System.Globalization.CultureInfo.InvariantCulture);
}
// An experiment's form of the decode attention kernel (AttentionKernelForm: 0 warp tiles, 1 pipelined; the engine's choice per head shape otherwise).
if (Array.IndexOf(args, "--attention-form") is var af and >= 0)
{
    DecodeAttention.FormInUse = (AttentionKernelForm)int.Parse(args[af + 1], System.Globalization.CultureInfo.InvariantCulture);
}
// An experiment's compile-time variant of the decode attention kernel (DecodeAttention.Variants; 0 is the engine's).
if (Array.IndexOf(args, "--attention-variant") is var av and >= 0)
{
    DecodeAttention.VariantInUse = int.Parse(args[av + 1], System.Globalization.CultureInfo.InvariantCulture);
}
// An experiment's weight prefetch (WeightPrefetch: 0 off, 1 rotary kernel, 2 attention kernel, 3 rotary kernel in bulk, 4 as 2 and 8 MiB of the FFN):
// the fused step asks the L2 for each layer's output projection while attention runs.
if (Array.IndexOf(args, "--weight-prefetch") is var wp and >= 0)
{
    DecodeKernels.WeightPrefetchInUse = (WeightPrefetch)int.Parse(args[wp + 1], System.Globalization.CultureInfo.InvariantCulture);
}
// The engine launches every run-time kernel as a programmatic dependent of the kernel before it (sm_90+);
// --no-dependent-launch measures them launched one after another (--dependent-launch asks for the default explicitly).
// --no-prefill-graphs: single-query prefill interpreted at every prompt size (the baseline of the prefill graphs).
if (args.Contains("--no-prefill-graphs"))
{
    PrefillGraphSetting.MaxTokens = 0;
}

if (args.Contains("--no-dependent-launch"))
{
    CudaRuntimeCompiler.DependentLaunches = false;
}
else if (args.Contains("--dependent-launch"))
{
    CudaRuntimeCompiler.DependentLaunches = true;
}
// An experiment's switch: the batched fused step's output and down projections leave their residual adds to the next norm.
BatchedGreedyDecoder.DeferResidualAddsInUse = Array.IndexOf(args, "--defer-residual-adds") >= 0;
var results = new Dictionary<string, object?>
{
    ["started_utc"] = DateTimeOffset.UtcNow,
    ["cuda_available"] = torch.cuda.is_available(),
    ["device"] = TorchProfiler.DescribeHardware(device),
    ["software"] = TorchProfiler.DescribeSoftware(ModelPrecision.BFloat16),
    ["attention_target_warps"] = DecodeAttention.TargetWarpsOverride,
    ["attention_form"] = DecodeAttention.FormInUse?.ToString() ?? "engine's (per head shape)",
    ["dependent_launches"] = CudaRuntimeCompiler.DependentLaunches,
    ["attention_variant"] = DecodeAttention.VariantInUse,
    ["defer_residual_adds"] = BatchedGreedyDecoder.DeferResidualAddsInUse,
    ["weight_prefetch"] = DecodeKernels.WeightPrefetchInUse.ToString(),
};
if (NvmlGpu.TryOpen(0) is { } gpu)
{
    results["nvml"] = gpu.Query();
}

void Save()
{
    var json = JsonSerializer.Serialize(results, new JsonSerializerOptions { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals });
    File.WriteAllText(Path.Combine(outDir, "results.json"), json);
}

// Stamps the end of the run into results.json.
void Finish()
{
    results["finished_utc"] = DateTimeOffset.UtcNow;
    Save();
}

// Correctness checks before any timing counts: the NVRTC-compiled decode kernels against the libtorch ops they replace,
// then CUDA-graph replays against the eager path's tokens; then the kernel sweeps (decode attention's split, the
// projections' weight layout), which only time. "--<name>-only" stops after that one.
foreach (var (flag, key, check) in new (string, string, Func<object>)[] { ("--kernel-check", "kernel_check", () => KernelCheck.Run(device)), ("--graph-check", "graph_check", () => GraphCheck.Run(device)), ("--attention-sweep", "attention_sweep", () => KernelCheck.AttentionSweep(device)), ("--gemm-sweep", "gemm_sweep", () => KernelCheck.GemmSweep(device)) })
{
    if (!args.Contains(flag))
    {
        continue;
    }

    results[key] = check();
    Save();
    Console.WriteLine(JsonSerializer.Serialize(results[key]));
    if (args.Contains(flag + "-only"))
    {
        return 0;
    }
}

// Several big models in one process: the engine's memory check reads NVML's free memory, which still counts the blocks
// libtorch keeps cached for a model already disposed, so a second model is refused. On the GPU (or with --per-process)
// each model runs as a child process of this harness with --model, writing into its own folder under --out.
int PerProcess(string mode, IEnumerable<string> models)
{
    var self = Environment.GetCommandLineArgs()[0];
    var runs = new List<object?>();
    var failed = 0;
    foreach (var name in models)
    {
        var folder = Path.Combine(outDir, name.Replace('/', '_'));
        var child = new System.Diagnostics.ProcessStartInfo(Environment.ProcessPath!) { UseShellExecute = false };
        if (!self.Equals(Environment.ProcessPath, StringComparison.Ordinal))
        {
            child.ArgumentList.Add(self); // dotnet app.dll
        }

        foreach (var a in args.Where((_, i) => args[i] != "--out" && (i == 0 || args[i - 1] != "--out")))
        {
            child.ArgumentList.Add(a);
        }

        foreach (var a in new[] { "--model", name, "--out", folder })
        {
            child.ArgumentList.Add(a);
        }

        log.LogInformation("{Mode}: {Model} in its own process, into {Folder}", mode, name, folder);
        using var process = System.Diagnostics.Process.Start(child)!;
        process.WaitForExit();
        failed += process.ExitCode == 0 ? 0 : 1;
        runs.Add(new Dictionary<string, object?> { ["model"] = name, ["folder"] = folder, ["exit_code"] = process.ExitCode });
    }

    results[mode + "_processes"] = runs;
    Finish();
    return failed == 0 ? 0 : 1;
}

var perProcess = only is null && (!smoke || args.Contains("--per-process"));
if (args.Contains("--moe") && perProcess)
{
    return PerProcess("moe", MoeBenchmark.Layouts.Select(l => l.Name));
}

if (args.Contains("--batching") && perProcess)
{
    return PerProcess("batching", BatchingModels(smoke).Select(m => m.Arch.Name).Concat(BatchingParallelModels(smoke).Select(m => m.Arch.Name)));
}

if (args.Contains("--dense-grid"))
{
    // Adaptive profiling against a dense grid of the same model in the same process (DenseGridBenchmark), about 4 minutes.
    results["dense_grid"] = DenseGridBenchmark.Run(device, smoke, outDir);
    Finish();
    return 0;
}

if (args.Contains("--moe"))
{
    // Mixture-of-experts models (MoeBenchmark): Qwen3-30B-A3B whole, Mixtral-8x7B as a 2-way rank-0 shard.
    // --no-graphs decodes eagerly (TorchScript), should graph capture of the grouped GEMMs fail.
    results["moe"] = MoeBenchmark.RunAll(device, smoke, outDir, only, Save, args.Contains("--no-graphs") ? CudaGraphMode.Off : CudaGraphMode.Auto);
    Finish();
    return 0;
}

if (Array.IndexOf(args, "--table1-model") is var tm and >= 0)
{
    // One Table 1 model in its own process (spawned by --table1): a fresh CUDA allocator per model, so each shard's
    // memory check sees the whole GPU and a failure cannot take the other models down.
    Table1Benchmark.RunOne(args[tm + 1], device, smoke, outDir, args.Contains("--energy"), !args.Contains("--no-ffn-align"));
    return 0;
}

if (args.Contains("--table1"))
{
    // The paper's ten Table 1 models at its GPU counts, as rank-0 shards on this one GPU, one process each.
    // --deadline S stops starting new models after S seconds, so a time-limited run still returns what it finished.
    var deadline = Array.IndexOf(args, "--deadline") is var di and >= 0 ? TimeSpan.FromSeconds(double.Parse(args[di + 1], System.Globalization.CultureInfo.InvariantCulture)) : TimeSpan.MaxValue;
    var energyMode = args.Contains("--energy");
    // --no-ffn-align stores odd FFN widths exactly (the baseline of DecoderOptions.AlignFfnWidth).
    results[energyMode ? "energy" : "table1"] = Table1Benchmark.RunAll(smoke, outDir, deadline, only, Save, log, energyMode, !args.Contains("--no-ffn-align"));
    Save();
    if (!args.Contains("--nccl"))
    {
        Finish();
        return 0;
    }
}

if (args.Contains("--tp-real"))
{
    // Real N-way tensor parallelism over the visible GPUs against its single-GPU emulation, same process.
    results["tp_real"] = RealTensorParallel.Measure(log);
    Save();
    if (!args.Contains("--nccl"))
    {
        Finish();
        return 0;
    }
}

if (args.Contains("--nccl"))
{
    try
    {
        results["nccl"] = NcclLatency.Measure(log);
    }
    catch (InvalidOperationException ex)
    {
        // NcclUnavailableException and NcclException are InvalidOperationExceptions: record why, like a failed model.
        log.LogError(ex, "NCCL all-reduce step failed");
        results["nccl"] = new Dictionary<string, object?> { ["error"] = ex.Message };
    }

    Finish();
    Console.WriteLine(File.ReadAllText(Path.Combine(outDir, "results.json")));
    return 0;
}

var bandwidth = DeviceLimits.CopyBandwidthBytesPerSecond(device, smoke ? 1L << 24 : 4L << 30, smoke ? 3 : 20);
var matmul = DeviceLimits.MatmulFlopsPerSecond(device, smoke ? 256 : 8192, smoke ? 256 : 8192, smoke ? 256 : 8192, smoke ? 3 : 30);
var matmulPrefillShape = DeviceLimits.MatmulFlopsPerSecond(device, smoke ? 64 : 1536, smoke ? 64 : 4096, smoke ? 256 : 14336, smoke ? 3 : 50);
results["copy_bandwidth_bytes_per_second"] = bandwidth;
results["bf16_matmul_8192_flops_per_second"] = matmul;
results["bf16_matmul_1536x4096x14336_flops_per_second"] = matmulPrefillShape;
if (args.Contains("--ops"))
{
    LlmEff.Profiling.Torch.TorchScriptExecutor.UsePlainInterpreter();
    results["op_costs"] = OpCosts.Measure(device);
    Save();
    Console.WriteLine(JsonSerializer.Serialize(results["op_costs"]));
}

if (args.Contains("--batching"))
{
    var markdown = new System.Text.StringBuilder("# Static batching (BatchingBenchmark)\n\n");
    markdown.AppendLine(System.FormattableString.Invariant($"Device: {results["device"]}; copy {bandwidth / 1e9:F0} GB/s, bf16 matmul {matmul / 1e12:F0} TFLOP/s (8192^3).\n"));
    var batching = new List<object?>();
    results["batching"] = batching;
    // Whole models (decode step against its bound, held-out batches) and a Table 1 model's shard (emulated tensor parallel).
    // --max-batch N: the whole models' batch sizes up to N only (a shorter device call), 32 by default.
    var maxBatch = Array.IndexOf(args, "--max-batch") is var mb and >= 0 ? int.Parse(args[mb + 1], System.Globalization.CultureInfo.InvariantCulture) : 32;
    var runs = BatchingModels(smoke)
        .Select(m => (m.Arch, Run: (Func<Dictionary<string, object?>>)(() => BatchingBenchmark.Run(m.Arch, m.Options, device, smoke, smoke ? 4 : maxBatch, outDir, bandwidth, matmul, log, markdown, args.Contains("--steps-only"), args.Contains("--one-call-step"), !args.Contains("--no-attention-kernel")))))
        .Concat(BatchingParallelModels(smoke).Select(m => (m.Arch, Run: (Func<Dictionary<string, object?>>)(() =>
            BatchingBenchmark.RunParallel(m.Arch, m.TensorParallel, smoke ? new DecoderOptions { Precision = ModelPrecision.Float32 } : DecoderOptions.Default, device, smoke, smoke ? 4 : 32, outDir, log, markdown)))));
    foreach (var (arch, run) in runs)
    {
        if (only is not null && !arch.Name.Contains(only, StringComparison.OrdinalIgnoreCase))
        {
            continue;
        }

        try
        {
            batching.Add(run());
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            log.LogError(ex, "{Model} failed", arch.Name);
            batching.Add(new Dictionary<string, object?> { ["model"] = arch.Name, ["error"] = ex.ToString() });
        }

        Save();
        File.WriteAllText(Path.Combine(outDir, "batching.md"), markdown.ToString());
        GC.Collect();
        GC.WaitForPendingFinalizers();
    }

    Finish();
    Console.WriteLine(markdown.ToString());
    return 0;
}

log.LogInformation("copy {Bw:F0} GB/s, bf16 matmul {Mm:F0} TFLOP/s (8192^3), {Mp:F0} TFLOP/s (1536x4096x14336)", bandwidth / 1e9, matmul / 1e12, matmulPrefillShape / 1e12);
Save();


var plan = smoke
    ? new ProfilingPlan { PromptTokens = [1, 16, 32], OutputTokens = [1, 2, 4, 8], Trials = 2, WarmupRuns = 1 }
    : ProfilingPlan.Paper;
var models = smoke
    ? new[] { (Architectures.Tiny, new DecoderOptions { Precision = ModelPrecision.Float32 }) }
    : new[]
    {
        (Architectures.GptJ6B, DecoderOptions.Default),
        (Architectures.Llama3_8B, DecoderOptions.Default with { RotaryBase = 500000 }),
    };
var perModel = new List<object?>();
results["models"] = perModel;
foreach (var (arch, options) in models)
{
    if (only is not null && !arch.Name.Contains(only, StringComparison.OrdinalIgnoreCase))
    {
        continue;
    }

    try
    {
        var r = ModelBenchmark.Run(arch, options, device, plan, smoke ? 5 : 30, outDir, bandwidth, matmul);
        perModel.Add(r);
        log.LogInformation("{Result}", JsonSerializer.Serialize(r.Where(kv => kv.Key != "heldout_queries").ToDictionary(), new JsonSerializerOptions { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals }));
    }
    catch (Exception ex) when (ex is not OutOfMemoryException)
    {
        log.LogError(ex, "{Model} failed", arch.Name);
        perModel.Add(new Dictionary<string, object?> { ["model"] = arch.Name, ["error"] = ex.ToString() });
    }

    Save();
    GC.Collect();
    GC.WaitForPendingFinalizers();
}

Finish();
Console.WriteLine(File.ReadAllText(Path.Combine(outDir, "results.json")));

return 0;

// The batching figures' models: GPT-J-6B and Llama-3-8B shapes (a tiny model for --smoke).
// One Table 1 model at its tensor-parallel degree (Table 1: Cohere XL on 4 GPUs), emulated from rank 0's shard.
static (TransformerArchitecture Arch, int TensorParallel)[] BatchingParallelModels(bool smoke) => smoke
    ? [(Architectures.Tiny with { Name = "tiny-tp" }, 2)]
    : [(ArchitectureCatalog.PaperTable1.Single(a => a.Name == "Cohere/XL v20220609"), 4)];

static (TransformerArchitecture Arch, DecoderOptions Options)[] BatchingModels(bool smoke) => smoke
    ? [(Architectures.Tiny, new DecoderOptions { Precision = ModelPrecision.Float32 })]
    : [(Architectures.GptJ6B, DecoderOptions.Default), (Architectures.Llama3_8B, DecoderOptions.Default with { RotaryBase = 500000 })];
