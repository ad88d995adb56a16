using System.Diagnostics;
using LlmEff.Core;
using LlmEff.Core.Hardware;
using LlmEff.Core.Parallelism;
using Microsoft.Extensions.Logging;
using TorchSharp;
using static TorchSharp.torch;

namespace LlmEff.Profiling.Torch.Gpu;

/// <summary>
/// On the GPUs at hand: Llama-3-8B N-way tensor parallel for real (rank r's shard on cuda:r, all-reduces through
/// NCCL, driven by <see cref="TensorParallelDecoder"/> with its captured steps, and with eager steps) against, in the same
/// process and on the same grid, its emulation (rank 0's shard timed alone on cuda:0 with CUDA graphs, plus the modelled
/// collectives, as <see cref="ParallelProfiler"/> does) and the whole model on one GPU. With one GPU, one rank: the real
/// engine's captured step (NCCL inside) against the one-GPU decoder, tokens and g.
/// </summary>
internal static class RealTensorParallel
{
    private static readonly int[] Prompts = [1, 512, 1536];
    private static readonly int[] Outputs = [1, 8, 32];
    private const int Trials = 3;

    public static Dictionary<string, object?> Measure(ILogger log)
    {
        var visible = cuda.device_count();
        if (visible < 1)
        {
            throw new InvalidOperationException("Real tensor parallelism needs CUDA GPUs; none is visible.");
        }

        // On one GPU: one rank through NCCL, the captured step's machinery against the one-GPU decoder (the first check of
        // the real engine's graphs); on several, every rank on its own GPU against the emulation.
        var arch = Architectures.Llama3_8B;
        var degree = ModelShard.ValidTensorParallelDegrees(arch).Where(n => n <= visible).Max();
        var capacity = Prompts.Max() + Outputs.Max();
        var r = new Dictionary<string, object?> { ["model"] = arch.Name, ["degree"] = degree, ["prompts"] = Prompts, ["outputs"] = Outputs, ["trials"] = Trials };
        using var inference = inference_mode();
        r["fp32_token_check"] = Fp32TokenCheck(arch with { Layers = 4 }, degree, log);
        using var full = DecoderTransformer.Create(arch, DecoderOptions.Default, torch.device("cuda:0"));
        var devices = Enumerable.Range(0, degree).ToArray();
        using var checkPrompt = randint(0, 1000, [1, 512], ScalarType.Int64, generator: new Generator(3)).cuda();
        long[] oneGpuTokens;
        RuntimeModel oneGpu;
        using (var single = new GreedyDecoder(full, capacity))
        {
            oneGpu = Profile("one GPU, CUDA graphs", (t, o) => single.Generate(t, o), [0], log, r, "one_gpu");
            using var tokens = single.Generate(checkPrompt, 32).cpu();
            oneGpuTokens = tokens.data<long>().ToArray();
        }

        var shards = devices.Select(d => DecoderTransformer.CreateShard(full, ModelShard.TensorParallel(degree, d), torch.device(DeviceType.CUDA, d))).ToList();
        try
        {
            RuntimeModel? emulated = null;
            if (degree > 1)
            {
                RuntimeModel shardFit;
                using (var rank0 = new GreedyDecoder(shards[0], capacity))
                {
                    shardFit = Profile("rank-0 shard alone, CUDA graphs", (t, o) => rank0.Generate(t, o), [0], log, r, "rank0_shard");
                }

                var collectives = new TensorParallelCollectives(arch, arch.Layers, degree, Interconnects.NvLink4);
                emulated = ParallelComposition.AddTensorParallelCommunication(shardFit, collectives);
                r["emulated"] = Summary(emulated);
            }

            using var nccl = NcclCommunicator.Create(devices);
            RuntimeModel measured;
            var sw = Stopwatch.StartNew();
            using (var real = new TensorParallelDecoder(shards, nccl, capacity))
            {
                r["real_capture_seconds"] = sw.Elapsed.TotalSeconds;
                r["real_uses_cuda_graphs"] = real.UsesCudaGraphs;
                r["real_eager_reason"] = real.EagerReason;
                log.LogInformation("{N}-way real decoder: graphs {Graphs} ({Reason}); captured in {S:F1} s", degree, real.UsesCudaGraphs, real.EagerReason ?? "captured", sw.Elapsed.TotalSeconds);
                using (var tokens = real.Generate(checkPrompt, 32).cpu())
                {
                    var same = tokens.data<long>().ToArray();
                    r["real_tokens_equal_one_gpu"] = same.SequenceEqual(oneGpuTokens);
                    r["real_tokens_matching_one_gpu"] = same.Zip(oneGpuTokens).TakeWhile(z => z.First == z.Second).Count();
                }

                measured = Profile($"{degree} GPU(s) for real, NCCL, {(real.UsesCudaGraphs ? "CUDA graphs" : "eager")}", (t, o) => real.Generate(t, o), devices, log, r, "real");
                using var graphTokens = real.Generate(checkPrompt, 32).cpu();
                r["real_graph_tokens"] = graphTokens.data<long>().ToArray();
            }

            using (var eager = new TensorParallelDecoder(shards, nccl, capacity, CudaGraphMode.Off))
            {
                // bf16: the captured step against the same ranks' eager steps (same partial sums; the norm kernel's rounding).
                using var eagerTokens = eager.Generate(checkPrompt, 32).cpu();
                var graph = (long[])r["real_graph_tokens"]!;
                r["real_graph_tokens_matching_eager"] = graph.Zip(eagerTokens.data<long>().ToArray()).TakeWhile(z => z.First == z.Second).Count();
                var e = Profile($"{degree} GPU(s) for real, NCCL, eager steps", (t, o) => eager.Generate(t, o), devices, log, r, "real_eager");
                r["real_eager_g_over_real_g"] = e.PerOutputTokenSeconds / measured.PerOutputTokenSeconds;
            }

            var baseline = emulated ?? oneGpu;
            var against = emulated is null ? "one GPU" : "emulated";
            r["real_g_over_baseline_g"] = measured.PerOutputTokenSeconds / baseline.PerOutputTokenSeconds;
            r["baseline"] = against;
            r["real_pe1536_over_baseline"] = measured.PromptEncoding.Evaluate(1536) / baseline.PromptEncoding.Evaluate(1536);
            log.LogInformation("{Model} {N}-way: real g {Real:F3} ms, {Against} {Base:F3} ms ({Ratio:F3}x)", arch.Name, degree, measured.PerOutputTokenSeconds * 1e3, against, baseline.PerOutputTokenSeconds * 1e3, measured.PerOutputTokenSeconds / baseline.PerOutputTokenSeconds);
        }
        finally
        {
            shards.ForEach(s => s.Dispose());
        }

        return r;
    }

    /// <summary>
    /// In fp32 (rounding too small to flip a greedy choice), a shallow copy of the model: the one-GPU decoder's tokens
    /// against the real ranks' captured steps and their eager steps, 48 tokens across a window boundary.
    /// </summary>
    private static Dictionary<string, object?> Fp32TokenCheck(Core.Architecture.TransformerArchitecture arch, int degree, ILogger log)
    {
        var options = DecoderOptions.Default with { Precision = ModelPrecision.Float32 };
        using var full = DecoderTransformer.Create(arch, options, torch.device("cuda:0"));
        using var prompt = randint(0, 1000, [1, 100], ScalarType.Int64, generator: new Generator(9)).cuda();
        long[] Tokens(Func<Tensor, int, Tensor> generate)
        {
            using var t = generate(prompt, 48).cpu();
            return t.data<long>().ToArray();
        }

        long[] one;
        using (var single = new GreedyDecoder(full, 160))
        {
            one = Tokens(single.Generate);
        }

        var devices = Enumerable.Range(0, degree).ToArray();
        var shards = devices.Select(d => DecoderTransformer.CreateShard(full, ModelShard.TensorParallel(degree, d), torch.device(DeviceType.CUDA, d))).ToList();
        try
        {
            using var nccl = NcclCommunicator.Create(devices);
            long[] graphs, eager;
            bool captured;
            using (var real = new TensorParallelDecoder(shards, nccl, 160))
            {
                captured = real.UsesCudaGraphs;
                graphs = Tokens(real.Generate);
            }

            using (var e = new TensorParallelDecoder(shards, nccl, 160, CudaGraphMode.Off))
            {
                eager = Tokens(e.Generate);
            }

            log.LogInformation("fp32 token check ({Layers} layers, {N} rank(s)): graphs {Captured}; captured = one GPU {A}, eager = one GPU {B}", arch.Layers, degree, captured, graphs.SequenceEqual(one), eager.SequenceEqual(one));
            return new Dictionary<string, object?>
            {
                ["layers"] = arch.Layers,
                ["tokens"] = one.Length,
                ["uses_cuda_graphs"] = captured,
                ["captured_equal_one_gpu"] = graphs.SequenceEqual(one),
                ["eager_equal_one_gpu"] = eager.SequenceEqual(one),
                ["distinct_tokens"] = one.Distinct().Count(),
            };
        }
        finally
        {
            shards.ForEach(s => s.Dispose());
        }
    }

    private static object Summary(RuntimeModel m) => new Dictionary<string, object?>
    {
        ["g_seconds"] = m.PerOutputTokenSeconds,
        ["pe_knots"] = m.PromptEncoding.Knots.Select(k => new[] { k.X, k.Y }).ToArray(),
        ["r_squared"] = m.RSquared,
    };

    private static RuntimeModel Profile(string what, Func<Tensor, int, Tensor> generate, int[] devices, ILogger log, Dictionary<string, object?>? into = null, string? key = null)
    {
        void Sync() => CudaGraph.SynchronizeDevices(devices);

        var samples = new List<ProfilingSample>();
        var gen = new Generator(0UL);
        foreach (var p in Prompts)
        {
            using var prompt = randint(0, 1000, [1, p], ScalarType.Int64, generator: gen).cuda();
            generate(prompt, Outputs.Max()).Dispose(); // warm-up
            Sync();
            for (var trial = 0; trial < Trials; trial++)
            {
                foreach (var o in Outputs)
                {
                    Sync();
                    var sw = Stopwatch.StartNew();
                    using var output = generate(prompt, o);
                    Sync();
                    samples.Add(new ProfilingSample(p, o, sw.Elapsed.TotalSeconds) { Trial = trial });
                }
            }
        }

        // Kept even when not physical (an eager multi-GPU decoder can be host-bound and noisy); the warnings are logged with it.
        var fit = RuntimeModel.Fit(samples, new RuntimeFitOptions { KeepNonPhysicalFit = true });
        foreach (var warning in fit.Warnings)
        {
            log.LogWarning("{What}: {Warning}", what, warning.ToString());
        }

        log.LogInformation("{What}: g {G:F3} ms, PE(1536) {Pe:F1} ms, R^2 {R2:F5}", what, fit.PerOutputTokenSeconds * 1e3, fit.PromptEncoding.Evaluate(1536) * 1e3, fit.RSquared);
        if (into is not null && key is not null)
        {
            into[key] = Summary(fit);
        }

        return fit;
    }
}
