using LlmEff.Core.Architecture;
using TorchSharp;
using static TorchSharp.torch;

namespace LlmEff.Profiling.Torch.Tests.Model;

/// <summary>
/// The mixture-of-experts FFN on tiny models: seeded uniform routing, the grouped-GEMM script against a token-by-token
/// reference, the static (graph) path against the eager one, shards, and parameter counts against Core's.
/// </summary>
public sealed class MixtureOfExpertsTests
{
    private static readonly DecoderOptions Fp32 = new() { Precision = ModelPrecision.Float32, Seed = 11, InitStandardDeviation = 0.2 };

    /// <summary>Mixtral-like: 8 experts, top 2, gated, GQA, rotary.</summary>
    private static readonly TransformerArchitecture TinyMixtral = new("tiny-mixtral", 64, 2, 8, 101, 64)
    {
        KeyValueHeads = 2, FfnHiddenSize = 48, Ffn = FfnKind.Gated, Norm = NormKind.RmsNorm, Positions = PositionalScheme.Rotary,
        LinearBiases = false, Experts = 8, ExpertsPerToken = 2,
    };

    /// <summary>Qwen-MoE-like: 12 narrow experts, top 4, a gated shared expert, head_dim wider than h / n.</summary>
    private static readonly TransformerArchitecture TinyQwen = new("tiny-qwen-moe", 64, 2, 4, 97, 64)
    {
        KeyValueHeads = 2, HeadDim = 32, FfnHiddenSize = 128, Ffn = FfnKind.Gated, Norm = NormKind.RmsNorm, Positions = PositionalScheme.Rotary,
        LinearBiases = false, Experts = 12, ExpertsPerToken = 4, ExpertFfnHiddenSize = 24, SharedExperts = 1, SharedExpertFfnHiddenSize = 64, SharedExpertGate = true,
    };

    /// <summary>Standard (GELU) experts with LayerNorm and learned positions.</summary>
    private static readonly TransformerArchitecture TinyGeluMoe = new("tiny-gelu-moe", 32, 2, 4, 61, 64)
    {
        LinearBiases = false, Experts = 4, ExpertsPerToken = 1, FfnHiddenSize = 40,
    };

    public static TheoryData<string> Names { get; } = ["mixtral", "qwen", "gelu"];

    private static TransformerArchitecture ByName(string name) => name switch
    {
        "mixtral" => TinyMixtral,
        "qwen" => TinyQwen,
        "gelu" => TinyGeluMoe,
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "unknown tiny mixture"),
    };

    [TorchTheory]
    [MemberData(nameof(Names))]
    public void Built_parameters_equal_Cores_count(string name)
    {
        var arch = ByName(name);
        using var model = DecoderTransformer.Create(arch, Fp32);
        Assert.Equal(arch.ParameterCount, model.AllocatedParameterCount);
        Assert.Equal(arch.ParameterCount, model.Shape.ParameterCount(arch));
    }

    [TorchFact]
    public void Routing_is_seeded_deterministic_distinct_and_about_uniform()
    {
        var arch = TinyQwen with { MaxContextTokens = 3000 };
        using var a = DecoderTransformer.Create(arch, Fp32);
        using var b = DecoderTransformer.Create(arch, Fp32);
        using var c = DecoderTransformer.Create(arch, Fp32 with { Seed = 12 });
        var routes = a.Blocks[0].Experts!.RoutingTable.data<long>().ToArray();
        Assert.Equal(routes, b.Blocks[0].Experts!.RoutingTable.data<long>().ToArray());
        Assert.NotEqual(routes, c.Blocks[0].Experts!.RoutingTable.data<long>().ToArray());
        Assert.NotEqual(routes, a.Blocks[1].Experts!.RoutingTable.data<long>().ToArray());

        var k = arch.ExpertsPerToken;
        var counts = new int[arch.Experts];
        for (var row = 0; row < arch.MaxContextTokens; row++)
        {
            var experts = routes.Skip(row * k).Take(k).ToArray();
            Assert.Equal(experts.Order().ToArray(), experts);
            Assert.Equal(k, experts.Distinct().Count());
            foreach (var e in experts)
            {
                Assert.InRange(e, 0, arch.Experts - 1);
                counts[e]++;
            }
        }

        // 12,000 draws over 12 experts: 1,000 each expected, standard deviation about 30; 5 deviations allowed.
        Assert.All(counts, n => Assert.InRange(n, 850, 1150));
    }

    [TorchTheory]
    [MemberData(nameof(Names))]
    public void Grouped_gemm_script_equals_the_token_by_token_reference(string name)
    {
        var arch = ByName(name);
        using var model = DecoderTransformer.Create(arch, Fp32);
        using var decoder = new GreedyDecoder(model, 16, CudaGraphMode.Off);
        const int prompt = 6, total = 12;
        using var tokens = randint(0, arch.VocabularySize, [1, total], generator: new Generator(5));
        using var full = model.call(tokens);
        using var first = decoder.PrefillLogits(tokens.narrow(1, 0, prompt));
        AssertClose(full.narrow(1, prompt - 1, 1), first);
        for (var pos = prompt; pos < total; pos++)
        {
            using var step = decoder.DecodeLogits(tokens.narrow(1, pos, 1), pos);
            AssertClose(full.narrow(1, pos, 1), step);
        }
    }

    [TorchFact]
    public void The_layer_output_equals_a_hand_computation_of_the_chosen_experts()
    {
        var arch = TinyMixtral;
        using var model = DecoderTransformer.Create(arch, Fp32);
        var moe = model.Blocks[0].Experts!;
        using var y = randn([1, arch.HiddenSize], generator: new Generator(9));
        const int position = 13;
        using var got = moe.ReferenceForward(y, position);
        var p = moe.named_parameters().ToDictionary(x => x.name, x => (Tensor)x.parameter);
        var chosen = moe.RoutingTable[position].data<long>().ToArray();
        var logits = matmul(y, p["router_weight"].t()).squeeze(0);
        var l0 = logits[chosen[0]].item<float>();
        var l1 = logits[chosen[1]].item<float>();
        var g0 = 1 / (1 + Math.Exp(l1 - l0));
        var f = arch.ExpertFfnHiddenSize;
        Tensor Expert(long e)
        {
            var gu = matmul(y, p["experts_gate_up"][e].t());
            return matmul(nn.functional.silu(gu.narrow(1, 0, f)) * gu.narrow(1, f, f), p["experts_down"][e].t());
        }

        using var expected = (Expert(chosen[0]) * g0) + (Expert(chosen[1]) * (1 - g0));
        Assert.True(allclose(got, expected, rtol: 1e-4, atol: 1e-5));
    }

    [TorchTheory]
    [MemberData(nameof(Names))]
    public void Static_steps_give_the_eager_tokens(string name)
    {
        var arch = ByName(name);
        using var model = DecoderTransformer.Create(arch, Fp32);
        using var decoder = new GreedyDecoder(model, 23, CudaGraphMode.Off, windowTokens: 4);
        using var prompt = randint(0, arch.VocabularySize, [1, 5], generator: new Generator(3));
        using var eager = decoder.Generate(prompt, 19);
        using var stat = decoder.GenerateStaticShapes(prompt, 19);
        using var fused = decoder.GenerateFusedReference(prompt, 19);
        Assert.Equal(eager.data<long>().ToArray(), stat.data<long>().ToArray());
        Assert.Equal(eager.data<long>().ToArray(), fused.data<long>().ToArray());
        Assert.False(decoder.UsesFusedKernels);
    }

    [TorchTheory]
    [InlineData("mixtral", 0)]
    [InlineData("qwen", 1)]
    public void Tensor_parallel_shards_split_each_expert_and_give_their_eager_tokens(string name, int rank)
    {
        var arch = ByName(name);
        using var whole = DecoderTransformer.Create(arch, Fp32);
        using var shard = DecoderTransformer.CreateShard(whole, ModelShard.TensorParallel(2, rank));
        Assert.Equal(arch.RoutedFfnHiddenSize / 2, shard.Shape.FfnHiddenSize);
        Assert.Equal(shard.Shape.ParameterCount(arch), shard.AllocatedParameterCount);

        // The two ranks' routed experts hold the whole model's experts' halves, and the same routes.
        using var other = DecoderTransformer.CreateShard(whole, ModelShard.TensorParallel(2, 1 - rank));
        Assert.Equal(
            whole.Blocks[0].Experts!.RoutingTable.data<long>().ToArray(),
            shard.Blocks[0].Experts!.RoutingTable.data<long>().ToArray());
        long Experts(DecoderTransformer m) => m.Blocks.Sum(b => b.Experts!.named_parameters().Where(x => x.name.StartsWith("experts_", StringComparison.Ordinal)).Sum(x => x.parameter.numel()));
        Assert.Equal(Experts(whole), Experts(shard) + Experts(other));

        using var decoder = new GreedyDecoder(shard, 20, CudaGraphMode.Off, windowTokens: 8);
        using var prompt = randint(0, arch.VocabularySize, [1, 4], generator: new Generator(2));
        using var eager = decoder.Generate(prompt, 15);
        using var stat = decoder.GenerateStaticShapes(prompt, 15);
        Assert.Equal(eager.data<long>().ToArray(), stat.data<long>().ToArray());
    }

    [TorchTheory]
    [InlineData("Qwen/Qwen3-30B-A3B", 1)]
    [InlineData("Qwen/Qwen1.5-MoE-A2.7B", 1)]
    [InlineData("mistralai/Mixtral-8x7B-v0.1", 1)]
    [InlineData("mistralai/Mixtral-8x7B-v0.1", 2)]
    [InlineData("Qwen/Qwen3-30B-A3B", 4)]
    public void Catalog_mixtures_build_on_the_meta_device_with_Cores_counts(string name, int degree)
    {
        var arch = ArchitectureCatalog.Get(name);
        using var model = DecoderTransformer.CreateShard(arch, ModelShard.TensorParallel(degree), Fp32 with { Precision = ModelPrecision.BFloat16 }, new Device("meta"));
        Assert.Equal(model.Shape.ParameterCount(arch), model.AllocatedParameterCount);
        if (degree == 1)
        {
            Assert.Equal(arch.ParameterCount, model.AllocatedParameterCount);
        }
    }

    [TorchFact]
    public void Experts_with_biases_are_refused_with_the_fix()
    {
        var ex = Assert.Throws<NotSupportedException>(() => DecoderTransformer.Create(TinyMixtral with { LinearBiases = true }, Fp32));
        Assert.Contains("LinearBiases = false", ex.Message, StringComparison.Ordinal);
    }

    [TorchFact]
    public void A_degree_that_does_not_split_the_experts_is_refused()
    {
        // Expert width 24 splits 2, 3, 4 ways (with 4 heads: 1, 2, 4); the shared width 64 not 3 ways.
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => ModelShard.TensorParallel(3).Resolve(TinyQwen with { Heads = 6, HeadDim = 16, KeyValueHeads = 3 }));
        Assert.Equal("TensorParallelDegree", ex.ParamName);
    }

    private static void AssertClose(Tensor expected, Tensor actual)
    {
        Assert.Equal(expected.shape, actual.shape);
        var diff = (expected - actual).abs().max().item<float>();
        var scale = expected.abs().max().item<float>();
        Assert.True(diff <= (1e-4 * scale) + 1e-4, $"max |diff| = {diff} against scale {scale}");
    }
}
