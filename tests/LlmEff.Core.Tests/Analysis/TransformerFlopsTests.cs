using LlmEff.Core.Analysis;
using LlmEff.Core.Architecture;

namespace LlmEff.Core.Tests.Analysis;

public class TransformerFlopsTests
{
    private static readonly TransformerArchitecture Davinci = ArchitectureCatalog.Get("OpenAI/davinci");

    [Theory]
    [InlineData(1)]
    [InlineData(512)]
    [InlineData(2048)]
    public void Gpt3Style_WithoutVocabularyProjection_EqualsPaper(int p)
    {
        // GPT-3 style: multi-head attention (kv width = h), standard FFN of 4h, dense. The paper neglects the
        // vocabulary projection (§3.1.1); with it switched off the general count is the paper's formula exactly.
        Assert.Equal(PaperFlops.PromptEncoding(Davinci, p), TransformerFlops.PromptEncoding(Davinci, p, options: FlopCountOptions.Paper), PaperFlops.PromptEncoding(Davinci, p) * 1e-12);
        Assert.Equal(PaperFlops.OutputToken(Davinci, p), TransformerFlops.OutputToken(Davinci, p, options: FlopCountOptions.Paper), PaperFlops.OutputToken(Davinci, p) * 1e-12);
        Assert.Equal(PaperFlops.Query(Davinci, p, 33), TransformerFlops.Query(Davinci, p, 33, options: FlopCountOptions.Paper), PaperFlops.Query(Davinci, p, 33) * 1e-12);
    }

    [Fact]
    public void Gpt3Style_WithVocabularyProjection_AddsTwoHVPerPass()
    {
        // The neglected term: 2·h·V per pass (last token only) = 2 · 12288 · 50257 = 1,235,116,032 FLOPs, i.e. 0.35% of a
        // one-token pass (357.6 GFLOPs at i = 2048).
        const double vocab = 2.0 * 12288 * 50257;
        Assert.Equal(1_235_116_032.0, vocab);
        Assert.Equal(PaperFlops.PromptEncoding(Davinci, 512) + vocab, TransformerFlops.PromptEncoding(Davinci, 512), 1e3);
        Assert.Equal(PaperFlops.OutputToken(Davinci, 100) + vocab, TransformerFlops.OutputToken(Davinci, 100), 1e3);

        // Logits for all p prompt tokens (Megatron style): p · 2·h·V.
        var all = TransformerFlops.PromptEncoding(Davinci, 512, options: new FlopCountOptions { LogitsForEveryToken = true });
        Assert.Equal(PaperFlops.PromptEncoding(Davinci, 512) + (512 * vocab), all, 1e4);
    }

    [Fact]
    public void Llama3_8B_OneTokenPass_MatchesHandCount()
    {
        // Per layer: projections 2·(2·4096² + 2·4096·1024) = 83,886,080; attention at c = 0 (one pair) 4·4096 = 16,384;
        // gated FFN 3·2·4096·14336 = 352,321,536; sum 436,224,000 × 32 layers = 13,959,168,000;
        // vocabulary 2·4096·128256 = 1,050,673,152; total 15,009,841,152.
        var llama = ArchitectureCatalog.Get("meta-llama/Meta-Llama-3-8B");
        Assert.Equal(15_009_841_152.0, TransformerFlops.ForwardPass(llama, 1, 0), 1.0);

        // The 2N rule of thumb: 2 × (parameters − input embedding table), off only by norm weights (which do no matmul).
        var twoN = 2.0 * (llama.ParameterCount - llama.EmbeddingParameters);
        Assert.Equal(twoN, TransformerFlops.ForwardPass(llama, 1, 0), twoN * 1e-4);

        // Each cached token adds 4·h per layer: 4 · 4096 · 32 = 524,288.
        Assert.Equal(524_288.0, TransformerFlops.ForwardPass(llama, 1, 1) - TransformerFlops.ForwardPass(llama, 1, 0), 1e-3);
    }

    [Fact]
    public void Mixtral_CountsOnlyRoutedExperts()
    {
        // 2 of 8 experts per token: FFN 2 · 3·2·4096·14336 = 704,643,072 per layer, plus routing 2·4096·8 = 65,536.
        var mixtral = ArchitectureCatalog.Get("mistralai/Mixtral-8x7B-v0.1");
        var mistral = ArchitectureCatalog.Get("mistralai/Mistral-7B-v0.1");
        var extraPerLayer = 352_321_536.0 + 65_536.0;
        Assert.Equal(TransformerFlops.ForwardPass(mistral, 1, 0) + (32 * extraPerLayer), TransformerFlops.ForwardPass(mixtral, 1, 0), 1.0);

        // ≈ 2 × active parameters (12.9B, less the embedding table).
        var twoActive = 2.0 * (mixtral.ActiveParameterCount - mixtral.EmbeddingParameters);
        Assert.Equal(twoActive, TransformerFlops.ForwardPass(mixtral, 1, 0), twoActive * 1e-4);
    }

    [Fact]
    public void CausalAttention_CountsLowerTriangle()
    {
        // s = 4 new over c = 10 cached: full pairs 4·14 = 56, causal 4·10 + 4·5/2 = 50; difference 6 pairs × 4h per layer.
        var gptj = ArchitectureCatalog.Get("EleutherAI/GPT-J");
        var full = TransformerFlops.ForwardPass(gptj, 4, 10);
        var causal = TransformerFlops.ForwardPass(gptj, 4, 10, options: new FlopCountOptions { CausalAttention = true });
        Assert.Equal(6.0 * 4 * 4096 * 28, full - causal, 1e-3);
    }

    [Fact]
    public void Generation_ClosedFormEqualsSum()
    {
        var llama = ArchitectureCatalog.Get("meta-llama/Meta-Llama-3-8B");
        const int p = 700, o = 40;
        var sum = 0.0;
        for (var i = p + 1; i <= p + o - 1; i++)
        {
            sum += TransformerFlops.OutputToken(llama, i);
        }

        Assert.Equal(sum, TransformerFlops.Generation(llama, p, o), sum * 1e-12);
        Assert.Equal(0.0, TransformerFlops.Generation(llama, p, 1));
    }

    [Fact]
    public void BadInput_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => TransformerFlops.ForwardPass(Davinci, 0, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => TransformerFlops.ForwardPass(Davinci, 1, -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => TransformerFlops.ForwardPass(Davinci, 1, 0, batchSize: 0));
        Assert.Throws<ArgumentNullException>(() => TransformerFlops.ForwardPass(null!, 1, 0));
    }
}
