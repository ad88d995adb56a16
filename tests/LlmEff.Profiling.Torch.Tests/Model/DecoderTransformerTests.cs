using LlmEff.Core.Architecture;
using TorchSharp;
using static TorchSharp.torch;

namespace LlmEff.Profiling.Torch.Tests.Model;

public sealed class DecoderTransformerTests
{
    private static readonly DecoderOptions Fp32 = new() { Precision = ModelPrecision.Float32, Seed = 7, InitStandardDeviation = 0.2 };

    [TorchTheory]
    [MemberData(nameof(TinyArchitectures.Names), MemberType = typeof(TinyArchitectures))]
    [MemberData(nameof(TinyArchitectures.OddFfnNames), MemberType = typeof(TinyArchitectures))]
    public void Forward_gives_logits_of_shape_1_T_vocab_and_parameter_count_matches_core(string name)
    {
        var arch = TinyArchitectures.ByName(name);
        using var model = DecoderTransformer.Create(arch, Fp32);
        using var tokens = randint(0, arch.VocabularySize, [1, 5]);
        using var logits = model.call(tokens);
        Assert.Equal(new long[] { 1, 5, arch.VocabularySize }, logits.shape);
        Assert.Equal(ScalarType.Float32, logits.dtype);
        Assert.Equal(arch.ParameterCount, model.AllocatedParameterCount);
    }

    [TorchTheory]
    [MemberData(nameof(TinyArchitectures.Names), MemberType = typeof(TinyArchitectures))]
    [MemberData(nameof(TinyArchitectures.OddFfnNames), MemberType = typeof(TinyArchitectures))]
    public void Incremental_decoding_with_the_kv_cache_matches_the_full_forward_pass(string name)
    {
        var arch = TinyArchitectures.ByName(name);
        using var model = DecoderTransformer.Create(arch, Fp32);
        using var decoder = new GreedyDecoder(model, 16);
        const int prompt = 5, total = 12;
        using var tokens = randint(0, arch.VocabularySize, [1, total], generator: new Generator(3));
        using var full = model.call(tokens);

        // Prompt in one pass, then one token at a time, each compared with the reference at its position.
        using var first = decoder.PrefillLogits(tokens.narrow(1, 0, prompt));
        AssertClose(full.narrow(1, prompt - 1, 1), first);
        for (var pos = prompt; pos < total; pos++)
        {
            using var step = decoder.DecodeLogits(tokens.narrow(1, pos, 1), pos);
            AssertClose(full.narrow(1, pos, 1), step);
        }
    }

    [TorchTheory]
    [InlineData("gpt-odd-ffn", 104)]
    [InlineData("llama-odd-ffn", 96)]
    [InlineData("gated-bias-odd-ffn", 96)]
    public void An_ffn_width_that_is_not_a_multiple_of_8_is_stored_padded_with_zeros(string name, int stored)
    {
        var arch = TinyArchitectures.ByName(name);
        using var model = DecoderTransformer.Create(arch, Fp32);
        var block = model.Blocks[0];
        var up = block.named_parameters().Single(p => p.name == "up_weight").parameter;
        var down = block.named_parameters().Single(p => p.name == "down_weight").parameter;
        var gated = arch.Ffn == FfnKind.Gated;
        var f = arch.FfnHiddenSize;
        Assert.Equal(new long[] { gated ? 2 * f : f, arch.HiddenSize }, up.shape);
        Assert.Equal(new long[] { arch.HiddenSize, f }, down.shape);

        // The script's transposed up and down matrices (and up bias) are the padded stores: the parameters' values, then zeros.
        var tensors = block.ScriptTensors().ToList();
        var upT = tensors.Single(t => t.ndim == 2 && t.shape[0] == arch.HiddenSize && t.shape[1] == (gated ? 2 * stored : stored));
        var downT = tensors.Single(t => t.ndim == 2 && t.shape[0] == stored && t.shape[1] == arch.HiddenSize);
        Assert.True(upT.narrow(1, 0, up.shape[0]).allclose(up.t(), 0, 0));
        Assert.Equal(0, upT.narrow(1, up.shape[0], upT.shape[1] - up.shape[0]).abs().max().item<float>());
        Assert.True(downT.narrow(0, 0, f).allclose(down.t(), 0, 0));
        Assert.Equal(0, downT.narrow(0, f, stored - f).abs().max().item<float>());
        if (arch.LinearBiases)
        {
            var upRows = gated ? 2 * f : f;
            var upBias = tensors.Single(t => t.ndim == 1 && t.shape[0] == upT.shape[1]);
            Assert.Equal(0, upBias.narrow(0, upRows, upBias.shape[0] - upRows).abs().max().item<float>());
        }
    }

    [TorchTheory]
    [MemberData(nameof(TinyArchitectures.OddFfnNames), MemberType = typeof(TinyArchitectures))]
    public void Without_alignment_the_ffn_keeps_its_exact_width_and_gives_the_same_tokens(string name)
    {
        var arch = TinyArchitectures.ByName(name);
        using var prompt = randint(0, arch.VocabularySize, [1, 4], generator: new Generator(2));
        long[] Run(bool align, out long[] downShape)
        {
            using var model = DecoderTransformer.Create(arch, Fp32 with { AlignFfnWidth = align });
            // The script's layer tensors end with the down projection's [width, h] transposed view (and maybe its bias).
            downShape = model.Blocks[0].ScriptTensors().Last(t => t.ndim == 2).shape;
            using var decoder = new GreedyDecoder(model, 16);
            using var output = decoder.Generate(prompt, 10);
            return output.data<long>().ToArray();
        }

        var padded = Run(true, out var paddedDown);
        var exact = Run(false, out var exactDown);
        Assert.Equal(padded, exact);
        Assert.Equal(arch.FfnHiddenSize, exactDown[0]);
        Assert.Equal((arch.FfnHiddenSize + 7) / 8 * 8, paddedDown[0]);
    }

    [TorchFact]
    public void Same_seed_gives_same_weights_and_tokens_and_another_seed_differs()
    {
        var arch = TinyArchitectures.Llama;
        using var prompt = randint(0, arch.VocabularySize, [1, 4], generator: new Generator(1));
        long[] Run(long seed)
        {
            using var model = DecoderTransformer.Create(arch, Fp32 with { Seed = seed });
            using var decoder = new GreedyDecoder(model, 32);
            using var output = decoder.Generate(prompt, 20);
            return output.data<long>().ToArray();
        }

        var a = Run(11);
        Assert.Equal(a, Run(11));
        Assert.NotEqual(a, Run(12));
    }

    [TorchTheory]
    [InlineData(1, 1)]
    [InlineData(1, 9)]
    [InlineData(7, 1)]
    [InlineData(7, 10)]
    public void Generate_returns_exactly_o_tokens_matching_reference_greedy_decoding(int p, int o)
    {
        var arch = TinyArchitectures.Gpt;
        using var model = DecoderTransformer.Create(arch, Fp32);
        using var decoder = new GreedyDecoder(model, p + o);
        using var prompt = randint(0, arch.VocabularySize, [1, p], generator: new Generator(5));
        using var output = decoder.Generate(prompt, o);
        Assert.Equal(new long[] { 1, o }, output.shape);

        // Reference: re-run the full forward pass on the growing sequence and take the argmax each time.
        var sequence = prompt.clone();
        for (var i = 0; i < o; i++)
        {
            using var logits = model.call(sequence);
            var next = logits.narrow(1, sequence.shape[1] - 1, 1).argmax(-1);
            sequence = cat([sequence, next], 1);
        }

        Assert.Equal(sequence.narrow(1, p, o).data<long>().ToArray(), output.data<long>().ToArray());

        using var stepwise = decoder.GenerateStepwise(prompt, o);
        Assert.Equal(output.data<long>().ToArray(), stepwise.data<long>().ToArray());
    }

    [TorchFact]
    public void Bad_input_is_rejected_with_the_value_and_the_fix()
    {
        using var model = DecoderTransformer.Create(TinyArchitectures.Gpt, Fp32);
        var tooLarge = Assert.Throws<ArgumentOutOfRangeException>(() => new GreedyDecoder(model, 65));
        Assert.Contains("64", tooLarge.Message, StringComparison.Ordinal);
        using var decoder = new GreedyDecoder(model, 8);
        using var prompt = zeros([1, 6], ScalarType.Int64);
        var overflow = Assert.Throws<ArgumentOutOfRangeException>(() => decoder.Generate(prompt, 4));
        Assert.Contains("capacity of 8", overflow.Message, StringComparison.Ordinal);
        // Mixtures are built (MixtureOfExpertsTests), but not with expert biases.
        var moe = TinyArchitectures.Gpt with { Experts = 4, ExpertsPerToken = 2 };
        Assert.Throws<NotSupportedException>(() => DecoderTransformer.Create(moe, Fp32));
    }

    [TorchFact]
    public void Torchscript_plain_interpreter_switch_is_found_in_linux_libtorch()
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.Skip("The libtorch symbol is checked on Linux builds.");
        }

        Assert.True(TorchScriptExecutor.IsAvailable);
    }

    private static void AssertClose(Tensor expected, Tensor actual)
    {
        Assert.Equal(expected.shape, actual.shape);
        var maxDiff = (expected - actual).abs().max().item<float>();
        var scale = expected.abs().max().item<float>();
        // fp32 on CPU: the reference (explicit softmax attention, no cache) and the cached SDPA path differ only by rounding.
        Assert.True(maxDiff <= 1e-4 * Math.Max(1, scale), $"max |diff| = {maxDiff} (logit scale {scale})");
    }
}
