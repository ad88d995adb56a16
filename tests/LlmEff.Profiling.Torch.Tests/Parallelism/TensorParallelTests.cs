using LlmEff.Core.Architecture;
using TorchSharp;
using static TorchSharp.torch;

namespace LlmEff.Profiling.Torch.Tests.Parallelism;

/// <summary>
/// Megatron tensor parallelism on the CPU: the N shards cut from one model, run together with their partial sums added
/// where NCCL's all-reduce would be, must compute the unsharded model's logits.
/// </summary>
public sealed class TensorParallelTests
{
    private static readonly DecoderOptions Fp32 = new() { Precision = ModelPrecision.Float32, Seed = 11, InitStandardDeviation = 0.2 };

    public static TheoryData<string, int> Cases { get; } = new()
    {
        { "gpt", 1 }, { "gpt", 2 }, { "gpt", 4 },
        // GQA with 2 KV heads: N = 2 splits them, N = 4 replicates each across two ranks.
        { "llama", 1 }, { "llama", 2 }, { "llama", 4 },
        // ALiBi slopes follow the heads; tied, padded vocabulary (89 rows over 2 and 3 ranks).
        { "bloom", 2 }, { "bloom", 3 },
        // Multi-query attention: the one KV head is replicated on every rank.
        { "mqa", 2 }, { "mqa", 4 },
        // Parallel blocks (GPT-J's shared norm, GPT-NeoX's two): one all-reduce per layer of the two halves' summed partials.
        { "gptj", 1 }, { "gptj", 2 }, { "gptj", 4 }, { "neox", 2 }, { "neox", 4 },
        // FFN widths stored padded to a multiple of 8 (50 -> 56 and 45 -> 48 per rank).
        { "gpt-odd-ffn", 2 }, { "llama-odd-ffn", 2 }, { "gated-bias-odd-ffn", 2 },
    };

    [TorchTheory]
    [MemberData(nameof(Cases))]
    public void Shards_run_together_give_the_unsharded_logits(string name, int degree)
    {
        var arch = TinyArchitectures.ByName(name);
        using var full = DecoderTransformer.Create(arch, Fp32);
        using var reference = new GreedyDecoder(full, 16);
        var shards = Enumerable.Range(0, degree).Select(r => DecoderTransformer.CreateShard(full, ModelShard.TensorParallel(degree, r))).ToList();
        try
        {
            using var decoder = new TensorParallelDecoder(shards, new HostAllReduce(degree), 16);
            const int prompt = 5;
            using var tokens = randint(0, arch.VocabularySize, [1, 9], generator: new Generator(5));
            using var expected = reference.PrefillLogits(tokens.narrow(1, 0, prompt));
            using var actual = decoder.PrefillLogits(tokens.narrow(1, 0, prompt));
            AssertClose(expected, actual);
            for (var pos = prompt; pos < 9; pos++)
            {
                using var e = reference.DecodeLogits(tokens.narrow(1, pos, 1), pos);
                using var a = decoder.DecodeLogits(tokens.narrow(1, pos, 1), pos);
                AssertClose(e, a);
            }

            // Greedy generation picks the same tokens.
            using var want = reference.Generate(tokens.narrow(1, 0, prompt), 6);
            using var got = decoder.Generate(tokens.narrow(1, 0, prompt), 6);
            Assert.Equal(want.data<long>().ToArray(), got.data<long>().ToArray());

            // Every shard holds exactly the parameters its shape says.
            Assert.All(shards, s => Assert.Equal(s.Shape.ParameterCount(arch), s.AllocatedParameterCount));
        }
        finally
        {
            shards.ForEach(s => s.Dispose());
        }
    }

    [TorchFact]
    public void Bf16_shards_agree_with_the_unsharded_model_within_bf16_rounding()
    {
        var arch = TinyArchitectures.Llama;
        var bf16 = Fp32 with { Precision = ModelPrecision.BFloat16 };
        using var full = DecoderTransformer.Create(arch, bf16);
        using var reference = new GreedyDecoder(full, 8);
        var shards = Enumerable.Range(0, 2).Select(r => DecoderTransformer.CreateShard(full, ModelShard.TensorParallel(2, r))).ToList();
        try
        {
            using var decoder = new TensorParallelDecoder(shards, new HostAllReduce(2), 8);
            using var tokens = randint(0, arch.VocabularySize, [1, 4], generator: new Generator(2));
            using var expected = reference.PrefillLogits(tokens).to(ScalarType.Float32);
            using var actual = decoder.PrefillLogits(tokens).to(ScalarType.Float32);
            var scale = expected.abs().max().item<float>();
            var diff = (expected - actual).abs().max().item<float>();
            // bf16 keeps 8 mantissa bits: summing partials in a different order moves results by a few ulps (2^-8 relative each).
            Assert.True(diff <= 0.05 * Math.Max(1, scale), $"max |diff| = {diff} at logit scale {scale}");
        }
        finally
        {
            shards.ForEach(s => s.Dispose());
        }
    }

    [TorchFact]
    public void A_degree_that_does_not_divide_the_heads_names_the_valid_degrees()
    {
        // tiny-llama: 8 heads, 2 KV heads, FFN 96.
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => ModelShard.TensorParallel(3).Resolve(TinyArchitectures.Llama));
        Assert.Contains("valid degrees are 1, 2, 4, 8", e.Message, StringComparison.Ordinal);
        Assert.Equal(nameof(ModelShard.TensorParallelDegree), e.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => ModelShard.TensorParallel(2, 2).Resolve(TinyArchitectures.Llama));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ModelShard { PipelineStages = 3, PipelineStage = 3 }.Resolve(TinyArchitectures.Llama));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ModelShard { PipelineStages = 99 }.Resolve(TinyArchitectures.Llama));
    }

    [TorchFact]
    public void Table1_shards_at_the_papers_gpu_counts_hold_one_nth_of_the_matrices()
    {
        // Table 1: davinci on 8 GPUs, tensor-parallel. Rank 0's shard on the meta device (no memory).
        var davinci = ArchitectureCatalog.PaperTable1.Single(a => a.Name == "OpenAI/davinci");
        var shard = ModelShard.TensorParallel(8);
        using var model = DecoderTransformer.CreateShard(davinci, shard, device: META);
        var shape = model.Shape;
        Assert.Equal(shape.ParameterCount(davinci), model.AllocatedParameterCount);
        Assert.Equal(12, shape.Heads);
        Assert.Equal(6144, shape.FfnHiddenSize);
        Assert.Equal(6283, shape.VocabularyRows); // ceil(50257 / 8)
        // Per layer, 12h²/8 matrix parameters plus replicated norms and the rank-0 biases; totals: 1/8 of 175B plus replicated parts.
        var eighth = davinci.ParameterCount / 8.0;
        Assert.InRange(model.AllocatedParameterCount, eighth, eighth * 1.01);

        // The eight shards together hold the whole model plus the replicated norms and position table (the padding is empty rows).
        var total = Enumerable.Range(0, 8).Sum(r => ModelShard.TensorParallel(8, r).Resolve(davinci).ParameterCount(davinci));
        var replicated = (7L * ((davinci.Layers * 2 * davinci.NormParameters) + davinci.NormParameters + ((long)davinci.MaxContextTokens * davinci.HiddenSize)))
            + ((6283L * 8 - davinci.VocabularySize) * davinci.HiddenSize);
        Assert.Equal(davinci.ParameterCount + replicated, total);
    }

    [TorchFact]
    public void Pipeline_stages_split_the_layers_and_only_the_ends_hold_embedding_and_head()
    {
        // TNLG v2 in Table 1: 105 layers, 8-way tensor x 3-way pipeline on 24 A100s.
        var tnlg = ArchitectureCatalog.PaperTable1.Single(a => a.Name == "Microsoft+NV/TNLG v2");
        var stages = Enumerable.Range(0, 3).Select(s => new ModelShard { TensorParallelDegree = 8, PipelineStages = 3, PipelineStage = s }.Resolve(tnlg)).ToArray();
        Assert.All(stages, s => Assert.Equal(35, s.Layers));
        Assert.Equal([0, 35, 70], stages.Select(s => s.FirstLayer));
        Assert.Equal([true, false, false], stages.Select(s => s.HasEmbedding));
        Assert.Equal([false, false, true], stages.Select(s => s.HasHead));

        // Uneven splits give the first stages one more layer.
        var uneven = Enumerable.Range(0, 4).Select(s => new ModelShard { PipelineStages = 4, PipelineStage = s }.Resolve(TinyArchitectures.Gpt with { Layers = 6 }).Layers);
        Assert.Equal([2, 2, 1, 1], uneven);
    }

    [TorchTheory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public void A_stage_shard_runs_whole_generations_alone_as_the_profiler_does(int stage)
    {
        var arch = TinyArchitectures.Llama with { Layers = 3 };
        using var model = DecoderTransformer.CreateShard(arch, new ModelShard { TensorParallelDegree = 2, PipelineStages = 3, PipelineStage = stage }, Fp32);
        using var decoder = new GreedyDecoder(model, 16);
        using var prompt = randint(0, arch.VocabularySize, [1, 4], generator: new Generator(1));
        using var output = decoder.Generate(prompt, 5);
        Assert.Equal(new long[] { 1, 5 }, output.shape);
        using var again = decoder.Generate(prompt, 5);
        Assert.Equal(output.data<long>().ToArray(), again.data<long>().ToArray());
        if (model.Shape.HasHead)
        {
            // Rank 0 of 2 chooses among its own vocabulary rows.
            Assert.All(output.data<long>().ToArray(), t => Assert.InRange(t, 0, model.Shape.VocabularyValid - 1));
        }
    }

    [TorchTheory]
    [MemberData(nameof(Cases))]
    public void The_captured_steps_sequence_gives_the_unsharded_tokens_across_windows(string name, int degree)
    {
        // What a graph replays on each rank (static pieces with the all-reduces between them, positions on the device),
        // run through the interpreter: 4-position windows, so 9 decode steps cross two window boundaries.
        var arch = TinyArchitectures.ByName(name);
        using var full = DecoderTransformer.Create(arch, Fp32);
        using var reference = new GreedyDecoder(full, 16);
        var shards = Enumerable.Range(0, degree).Select(r => DecoderTransformer.CreateShard(full, ModelShard.TensorParallel(degree, r))).ToList();
        try
        {
            using var decoder = new TensorParallelDecoder(shards, new HostAllReduce(degree), 16, CudaGraphMode.Auto, windowTokens: 4);
            using var prompt = randint(0, arch.VocabularySize, [1, 5], generator: new Generator(7));
            using var want = reference.Generate(prompt, 10);
            using var eager = decoder.Generate(prompt, 10);
            using var stepped = decoder.GenerateStaticReference(prompt, 10);
            Assert.Equal(want.data<long>().ToArray(), eager.data<long>().ToArray());
            Assert.Equal(want.data<long>().ToArray(), stepped.data<long>().ToArray());

            // A second, shorter run over the same caches starts from its own prompt, not from the first run's state.
            using var again = decoder.GenerateStaticReference(prompt.narrow(1, 0, 3), 4);
            using var wantAgain = reference.Generate(prompt.narrow(1, 0, 3), 4);
            Assert.Equal(wantAgain.data<long>().ToArray(), again.data<long>().ToArray());
        }
        finally
        {
            shards.ForEach(s => s.Dispose());
        }
    }

    [TorchFact]
    public void Off_the_gpu_steps_are_eager_and_say_why_and_required_graphs_are_refused()
    {
        var arch = TinyArchitectures.Llama;
        using var a = DecoderTransformer.CreateShard(arch, ModelShard.TensorParallel(2, 0), Fp32);
        using var b = DecoderTransformer.CreateShard(arch, ModelShard.TensorParallel(2, 1), Fp32);
        using (var decoder = new TensorParallelDecoder([a, b], new HostAllReduce(2), 8))
        {
            Assert.False(decoder.UsesCudaGraphs);
            Assert.Contains("CUDA graphs need CUDA devices", decoder.EagerReason, StringComparison.Ordinal);
        }

        using (var off = new TensorParallelDecoder([a, b], new HostAllReduce(2), 8, CudaGraphMode.Off))
        {
            Assert.Contains("CudaGraphMode.Off", off.EagerReason, StringComparison.Ordinal);
        }

        var required = Assert.Throws<NotSupportedException>(() => new TensorParallelDecoder([a, b], new HostAllReduce(2), 8, CudaGraphMode.Required));
        Assert.Contains("CUDA graphs need CUDA devices", required.Message, StringComparison.Ordinal);
        Assert.Contains("CudaGraphMode.Auto", required.Message, StringComparison.Ordinal);
    }

    [TorchFact]
    public void The_decoder_rejects_shards_out_of_order_and_a_mismatched_all_reduce()
    {
        var arch = TinyArchitectures.Gpt;
        using var a = DecoderTransformer.CreateShard(arch, ModelShard.TensorParallel(2, 1), Fp32);
        using var b = DecoderTransformer.CreateShard(arch, ModelShard.TensorParallel(2, 0), Fp32);
        var order = Assert.Throws<ArgumentException>(() => new TensorParallelDecoder([a, b], new HostAllReduce(2), 8));
        Assert.Contains("rank order", order.Message, StringComparison.Ordinal);
        var ranks = Assert.Throws<ArgumentException>(() => new TensorParallelDecoder([b, a], new HostAllReduce(3), 8));
        Assert.Contains("create it for 2 ranks", ranks.Message, StringComparison.Ordinal);
    }

    [TorchFact]
    public void Host_all_reduce_sums_every_ranks_tensor_in_place()
    {
        using var reduce = new HostAllReduce(3);
        var parts = new[] { tensor(new float[] { 1, 2 }), tensor(new float[] { 10, 20 }), tensor(new float[] { 100, 200 }) };
        reduce.SumInPlace(parts);
        Assert.All(parts, p => Assert.Equal(new float[] { 111, 222 }, p.data<float>().ToArray()));
        Assert.Throws<ArgumentException>(() => reduce.SumInPlace(parts.Take(2).ToArray()));
        Assert.Throws<ArgumentException>(() => reduce.SumInPlace([parts[0], parts[1], tensor(new float[] { 1, 2, 3 })]));
        foreach (var p in parts)
        {
            p.Dispose();
        }
    }

    private static void AssertClose(Tensor expected, Tensor actual)
    {
        Assert.Equal(expected.shape, actual.shape);
        var diff = (expected - actual).abs().max().item<float>();
        var scale = expected.abs().max().item<float>();
        // fp32: the shards add the same products in a different order; differences are rounding only.
        Assert.True(diff <= 2e-4 * Math.Max(1, scale), $"max |diff| = {diff} (logit scale {scale})");
    }
}
