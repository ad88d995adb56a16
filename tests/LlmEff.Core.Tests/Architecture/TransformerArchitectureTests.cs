using LlmEff.Core.Architecture;

namespace LlmEff.Core.Tests.Architecture;

public class TransformerArchitectureTests
{
    [Fact]
    public void Gpt3Shape_ParameterCountIs12LH2PlusEmbeddings()
    {
        // GPT-3 175B (Brown et al. 2020): h = 12288, l = 96, n = 96, vocabulary 50257, context 2048, untied output.
        var a = new TransformerArchitecture("OpenAI/davinci", 12288, 96, 96, 50257, 2048).Validate();
        long h = 12288;
        var perLayer = (12 * h * h) + (13 * h); // 4h² attention + 8h² FFN, biases 4h + 5h, two LayerNorms 4h
        Assert.Equal(perLayer, a.ParametersPerLayer);
        Assert.Equal(175e9, a.ParameterCount, 0.03 * 175e9);
        Assert.Equal(a.ParameterCount, a.ActiveParameterCount);
        Assert.Equal(2L * 96 * 12288, a.KvCacheElementsPerToken);
    }

    [Fact]
    public void Llama3_8B_MatchesPublishedTotal()
    {
        // meta-llama/Meta-Llama-3-8B config.json: h 4096, l 32, n 32, kv 8, f 14336, vocab 128256; 8.03B parameters.
        var a = new TransformerArchitecture("Llama 3 8B", 4096, 32, 32, 128256, 8192)
        {
            KeyValueHeads = 8, FfnHiddenSize = 14336, Ffn = FfnKind.Gated, Norm = NormKind.RmsNorm,
            Positions = PositionalScheme.Rotary, LinearBiases = false,
        }.Validate();
        Assert.Equal(8.03e9, a.ParameterCount, 0.03 * 8.03e9);
        Assert.Equal(1024, a.KeyValueWidth);
    }

    [Fact]
    public void ParallelBlocks_CountTheirNorms_AndRoundTripThroughJson()
    {
        var gptj = ArchitectureCatalog.Get("EleutherAI/gpt-j-6b");
        Assert.Equal(BlockLayout.ParallelSharedNorm, gptj.Block);
        Assert.Equal(1, gptj.NormsPerLayer);
        var sequential = gptj with { Block = BlockLayout.Sequential };
        Assert.Equal(2, sequential.NormsPerLayer);
        Assert.Equal(28L * 2 * 4096, sequential.ParameterCount - gptj.ParameterCount); // one LayerNorm (weight, bias) per layer
        Assert.InRange(gptj.ParameterCount, 0.999 * gptj.PublishedParameterCount!.Value, 1.001 * gptj.PublishedParameterCount.Value);

        // GPT-NeoX-20B keeps both LayerNorms: its published total to the parameter (44 · (12h² + 13h) + 2 · 50,432 · h + 2h).
        var neox = ArchitectureCatalog.Get("EleutherAI/gpt-neox-20b");
        Assert.Equal(BlockLayout.Parallel, neox.Block);
        Assert.Equal(2, neox.NormsPerLayer);
        Assert.Equal(20_554_567_680, neox.ParameterCount);
        Assert.Equal(neox.PublishedParameterCount, neox.ParameterCount);

        var json = ArchitectureJson.Serialize(gptj);
        Assert.Contains("\"block\": \"parallel_shared_norm\"", json, StringComparison.Ordinal);
        Assert.Equal(BlockLayout.ParallelSharedNorm, ArchitectureJson.Parse(json).Block);
        Assert.Equal(BlockLayout.Parallel, ArchitectureJson.Parse(ArchitectureJson.Serialize(neox)).Block);
        Assert.DoesNotContain("\"block\"", ArchitectureJson.Serialize(sequential), StringComparison.Ordinal);
        Assert.Equal(BlockLayout.ParallelSharedNorm, ArchitectureJson.Parse(json.Replace("parallel_shared_norm", "ParallelSharedNorm", StringComparison.Ordinal)).Block);
        var bad = Assert.Throws<InvalidDataException>(() => ArchitectureJson.Parse(json.Replace("parallel_shared_norm", "interleaved", StringComparison.Ordinal)));
        Assert.Contains("$.block", bad.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_RejectsInconsistentShapes()
    {
        Assert.Throws<ArgumentException>(() => new TransformerArchitecture("x", 100, 2, 3, 10, 10).Validate());
        Assert.Throws<ArgumentException>(() => new TransformerArchitecture("x", 96, 2, 8, 10, 10) { KeyValueHeads = 3 }.Validate());
        Assert.Throws<ArgumentException>(() => new TransformerArchitecture("x", 96, 2, 8, 10, 10) { Experts = 2, ExpertsPerToken = 3 }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new TransformerArchitecture("x", 96, 0, 8, 10, 10).Validate());
    }
}
