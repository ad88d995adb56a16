using LlmEff.Core.Architecture;
using TorchSharp;
using static TorchSharp.torch;

namespace LlmEff.Profiling.Torch.Tests.Model;

/// <summary>Sliding-window attention (Mistral) on a tiny model whose window (3) is much shorter than the sequences.</summary>
public sealed class SlidingWindowTests
{
    private static readonly DecoderOptions Fp32 = new() { Precision = ModelPrecision.Float32, Seed = 5, InitStandardDeviation = 0.2 };

    public static TheoryData<string> Names { get; } = ["llama", "bloom"];

    private static TransformerArchitecture Windowed(string name) => TinyArchitectures.ByName(name) with { SlidingWindowTokens = 3 };

    [TorchTheory]
    [MemberData(nameof(Names))]
    public void Cached_decoding_matches_the_banded_reference_and_differs_from_full_attention(string name)
    {
        var arch = Windowed(name);
        using var model = DecoderTransformer.Create(arch, Fp32);
        using var fullModel = DecoderTransformer.Create(arch with { SlidingWindowTokens = null }, Fp32);
        using var decoder = new GreedyDecoder(model, 16, CudaGraphMode.Off);
        const int prompt = 6, total = 12;
        using var tokens = randint(0, arch.VocabularySize, [1, total], generator: new Generator(3));
        using var reference = model.call(tokens);
        using var unwindowed = fullModel.call(tokens);
        Assert.True((reference - unwindowed).abs().max().item<float>() > 1e-3, "the window changed nothing");
        using var first = decoder.PrefillLogits(tokens.narrow(1, 0, prompt));
        AssertClose(reference.narrow(1, prompt - 1, 1), first);
        for (var pos = prompt; pos < total; pos++)
        {
            using var step = decoder.DecodeLogits(tokens.narrow(1, pos, 1), pos);
            AssertClose(reference.narrow(1, pos, 1), step);
        }
    }

    [TorchTheory]
    [MemberData(nameof(Names))]
    public void Static_and_fused_steps_give_the_eager_tokens(string name)
    {
        var arch = Windowed(name);
        using var model = DecoderTransformer.Create(arch, Fp32);
        using var decoder = new GreedyDecoder(model, 23, CudaGraphMode.Off, windowTokens: 4);
        using var prompt = randint(0, arch.VocabularySize, [1, 5], generator: new Generator(3));
        using var eager = decoder.Generate(prompt, 19);
        using var stat = decoder.GenerateStaticShapes(prompt, 19);
        using var fused = decoder.GenerateFusedReference(prompt, 19);
        Assert.Equal(eager.data<long>().ToArray(), stat.data<long>().ToArray());
        Assert.Equal(eager.data<long>().ToArray(), fused.data<long>().ToArray());
    }

    private static void AssertClose(Tensor expected, Tensor actual)
    {
        var diff = (expected - actual).abs().max().item<float>();
        var scale = expected.abs().max().item<float>();
        Assert.True(diff <= 1e-4 * Math.Max(1, scale), $"max |diff| = {diff} (logit scale {scale})");
    }
}
