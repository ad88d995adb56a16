using LlmEff.Core.Architecture;
using TorchSharp;
using static TorchSharp.torch;

namespace LlmEff.Profiling.Torch.Gpu;

/// <summary>
/// On the GPU: CUDA-graph replays against eager decoding on tiny fp32 models of every engine variant (learned, rotary,
/// ALiBi; MHA, GQA, MQA), with small windows so generations cross window boundaries. The same check as the CUDA xunit
/// test, run where the harness runs.
/// </summary>
internal static class GraphCheck
{
    private static readonly TransformerArchitecture[] Variants =
    [
        new("tiny-gpt", 32, 2, 4, 97, 64),
        new("tiny-llama", 64, 2, 8, 101, 64) { KeyValueHeads = 2, FfnHiddenSize = 96, Ffn = FfnKind.Gated, Norm = NormKind.RmsNorm, Positions = PositionalScheme.Rotary, LinearBiases = false },
        new("tiny-bloom", 48, 2, 6, 89, 64) { Positions = PositionalScheme.Alibi, TiedEmbeddings = true },
        new("tiny-mqa", 32, 3, 4, 61, 64) { KeyValueHeads = 1, Positions = PositionalScheme.Rotary },
        new("tiny-gptj", 32, 2, 4, 83, 64) { Positions = PositionalScheme.Rotary, Block = BlockLayout.ParallelSharedNorm },
        new("tiny-neox", 32, 2, 4, 83, 64) { Positions = PositionalScheme.Rotary, Block = BlockLayout.Parallel },
        new("tiny-llama-window", 64, 2, 8, 101, 64) { KeyValueHeads = 2, FfnHiddenSize = 96, Ffn = FfnKind.Gated, Norm = NormKind.RmsNorm, Positions = PositionalScheme.Rotary, LinearBiases = false, SlidingWindowTokens = 6 },
        // Mixtures run in bf16: the grouped GEMMs of their experts are bf16 kernels on CUDA.
        new("tiny-mixtral", 64, 2, 8, 101, 64) { KeyValueHeads = 2, FfnHiddenSize = 48, Ffn = FfnKind.Gated, Norm = NormKind.RmsNorm, Positions = PositionalScheme.Rotary, LinearBiases = false, Experts = 8, ExpertsPerToken = 2 },
        new("tiny-qwen-moe", 64, 2, 4, 97, 64)
        {
            KeyValueHeads = 2, HeadDim = 32, Ffn = FfnKind.Gated, Norm = NormKind.RmsNorm, Positions = PositionalScheme.Rotary, LinearBiases = false,
            Experts = 16, ExpertsPerToken = 4, ExpertFfnHiddenSize = 32, SharedExperts = 1, SharedExpertFfnHiddenSize = 64, SharedExpertGate = true,
        },
    ];

    /// <summary>Head sizes the decode attention kernel takes (32 with GQA, 64), beside the tiny ones it leaves to SDPA.</summary>
    private static readonly TransformerArchitecture[] AttentionKernelVariants =
    [
        new("tiny-llama-hd32", 128, 2, 4, 101, 64) { KeyValueHeads = 2, FfnHiddenSize = 160, Ffn = FfnKind.Gated, Norm = NormKind.RmsNorm, Positions = PositionalScheme.Rotary, LinearBiases = false },
        new("tiny-gpt-hd64", 128, 2, 2, 97, 64),
    ];

    public static List<Dictionary<string, object?>> Run(Device device)
    {
        var results = new List<Dictionary<string, object?>>();
        foreach (var arch in Variants.Concat(AttentionKernelVariants))
        {
            var r = new Dictionary<string, object?> { ["model"] = arch.Name };
            try
            {
                var options = new DecoderOptions { Precision = arch.IsMixtureOfExperts ? ModelPrecision.BFloat16 : ModelPrecision.Float32, Seed = 4, InitStandardDeviation = 0.2 };
                using var model = DecoderTransformer.Create(arch, options, device);
                // The single-query step takes the attention kernel only when asked: these variants ask, to check it.
                using var graphs = new GreedyDecoder(model, 45, CudaGraphMode.Required, windowTokens: 8, attentionKernel: AttentionKernelVariants.Contains(arch));
                using var eager = new GreedyDecoder(model, 45, CudaGraphMode.Off);
                var same = true;
                foreach (var (p, o) in new[] { (5, 41), (1, 9), (12, 3), (30, 16) })
                {
                    using var prompt = TorchProfiler.RandomPrompt(model, p, 1, 0);
                    using var want = eager.Generate(prompt, o).cpu();
                    using var got = graphs.Generate(prompt, o).cpu();
                    same &= want.data<long>().ToArray().SequenceEqual(got.data<long>().ToArray());
                }

                r["uses_cuda_graphs"] = graphs.UsesCudaGraphs;
                r["captured_prefill_sizes"] = graphs.CapturedPrefillSizes.Order().ToArray();
                r["uses_fused_kernels"] = graphs.UsesFusedKernels;
                r["uses_expert_kernels"] = graphs.UsesExpertKernels;
                r["uses_attention_kernel"] = graphs.UsesAttentionKernel;
                r["same_tokens_as_eager"] = same;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                r["error"] = ex.ToString();
            }

            results.Add(r);
        }

        results.AddRange(RunBatched(device));
        return results;
    }

    /// <summary>
    /// The batched decoder's captured fused steps (norm, rotary, activation and attention kernels) against its interpreted
    /// one-call steps, buckets of 1 and 3 queries.
    /// </summary>
    private static List<Dictionary<string, object?>> RunBatched(Device device)
    {
        TransformerArchitecture[] variants =
        [
            Variants[0], Variants[1], Variants[2], Variants[3], .. AttentionKernelVariants,
        ];
        var results = new List<Dictionary<string, object?>>();
        foreach (var arch in variants)
        {
            var r = new Dictionary<string, object?> { ["model"] = arch.Name, ["batched"] = true };
            try
            {
                var options = new DecoderOptions { Precision = ModelPrecision.Float32, Seed = 4, InitStandardDeviation = 0.2 };
                using var model = DecoderTransformer.Create(arch, options, device);
                using var graphs = new BatchedGreedyDecoder(model, 45, [1, 3], CudaGraphMode.Required, windowTokens: 8, availableBytes: null);
                using var eager = new BatchedGreedyDecoder(model, 45, [1, 3], CudaGraphMode.Off, windowTokens: 8, availableBytes: null);
                var same = true;
                foreach (var (b, p, o) in new[] { (3, 5, 41), (1, 1, 9), (3, 12, 3), (2, 30, 16) })
                {
                    using var prompt = TorchProfiler.RandomPrompts(model, b, p, 0, 0);
                    using var want = eager.Generate(prompt, o).cpu();
                    using var got = graphs.Generate(prompt, o).cpu();
                    same &= want.data<long>().ToArray().SequenceEqual(got.data<long>().ToArray());
                }

                r["uses_cuda_graphs"] = graphs.UsesCudaGraphs;
                r["uses_fused_kernels"] = graphs.UsesFusedKernels;
                r["uses_attention_kernel"] = graphs.UsesAttentionKernel;
                r["same_tokens_as_eager"] = same;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                r["error"] = ex.ToString();
            }

            results.Add(r);
        }

        return results;
    }
}
