using LlmEff.Core.Analysis;
using LlmEff.Core.Architecture;

namespace LlmEff.Core.Tests.Analysis;

public class MemoryTrafficTests
{
    [Fact]
    public void KvCacheBytesPerToken_MatchesHandValues()
    {
        // Llama 3 8B, fp16: 2 (K and V) · 32 layers · 8 KV heads · 128 head dim · 2 bytes = 131,072 bytes (128 KiB).
        var llama = ArchitectureCatalog.Get("meta-llama/Meta-Llama-3-8B");
        Assert.Equal(131_072.0, MemoryTraffic.KvCacheBytesPerToken(llama, InferencePrecision.Fp16));

        // davinci, fp16, multi-head: 2 · 96 · 12288 · 2 = 4,718,592 bytes (4.5 MiB); 2,048 tokens → 9,663,676,416 bytes.
        var davinci = ArchitectureCatalog.Get("OpenAI/davinci");
        Assert.Equal(4_718_592.0, MemoryTraffic.KvCacheBytesPerToken(davinci, InferencePrecision.Fp16));
        Assert.Equal(9_663_676_416.0, MemoryTraffic.KvCacheBytes(davinci, InferencePrecision.Fp16, 2048));
        Assert.Equal(2 * 9_663_676_416.0, MemoryTraffic.KvCacheBytes(davinci, InferencePrecision.Fp16, 2048, batchSize: 2));
    }

    [Fact]
    public void ForwardPass_DenseUntied_ReadsEveryLayerWeightAndTheOutputHead()
    {
        // GPT-J (untied, rotary): weights read = parameters − embedding table + the looked-up rows (s·h).
        var gptj = ArchitectureCatalog.Get("EleutherAI/GPT-J");
        var pass = MemoryTraffic.ForwardPass(gptj, 1, 99, 1, InferencePrecision.Fp16);
        var expectedWeights = 2.0 * (gptj.ParameterCount - (50400.0 * 4096) + 4096);
        Assert.Equal(expectedWeights, pass.WeightBytes, 1.0);

        // Cache: 99 tokens read, 1 written, 2 · 28 · 4096 · 2 = 458,752 bytes each.
        Assert.Equal(99 * 458_752.0, pass.KvCacheReadBytes);
        Assert.Equal(458_752.0, pass.KvCacheWriteBytes);
        Assert.Equal(pass.WeightBytes + pass.KvCacheReadBytes + pass.KvCacheWriteBytes, pass.TotalBytes);
    }

    [Fact]
    public void ForwardPass_TiedEmbeddings_StillReadsTheTableAsOutputProjection()
    {
        // BLOOM ties input and output: V·h is read once, as the output projection, plus the looked-up rows.
        var bloom = ArchitectureCatalog.Get("BigScience/BL00M");
        var pass = MemoryTraffic.ForwardPass(bloom, 3, 0, 1, InferencePrecision.Fp16);
        Assert.Equal(2.0 * (bloom.ParameterCount + (3.0 * 14336)), pass.WeightBytes, 1.0);
    }

    [Fact]
    public void RoutedTokensToTouch_InvertsTheExpectedExpertsTouched()
    {
        var mixtral = ArchitectureCatalog.Get("mistralai/Mixtral-8x7B-v0.1");
        var qwen = ArchitectureCatalog.Get("Qwen/Qwen3-30B-A3B");
        foreach (var (a, share) in new[] { (mixtral, 0.5), (mixtral, 0.99), (qwen, 0.9) })
        {
            var tokens = MemoryTraffic.RoutedTokensToTouch(a, share);
            Assert.Equal(share * a.Experts, MemoryTraffic.ExpectedExpertsTouched(a, tokens), 1e-9);
        }

        // Mixtral (top-2 of 8) reaches 90 % of its experts by 8.0 tokens a layer, Qwen3-30B-A3B (top-8 of 128) by 35.7.
        Assert.Equal(8.004, MemoryTraffic.RoutedTokensToTouch(mixtral, 0.9), 3);
        Assert.Equal(35.68, MemoryTraffic.RoutedTokensToTouch(qwen, 0.9), 2);
        Assert.Equal(0, MemoryTraffic.RoutedTokensToTouch(ArchitectureCatalog.Get("EleutherAI/GPT-J"), 0.9));
        var bad = Assert.Throws<ArgumentOutOfRangeException>(() => MemoryTraffic.RoutedTokensToTouch(mixtral, 1));
        Assert.Equal("expertShare", bad.ParamName);
    }

    [Fact]
    public void Mixture_ReadsOnlyTouchedExperts()
    {
        var mixtral = ArchitectureCatalog.Get("mistralai/Mixtral-8x7B-v0.1");

        // One token touches k = 2 experts; many tokens touch nearly all 8: E·(1 − (1 − 2/8)^T).
        Assert.Equal(2.0, MemoryTraffic.ExpectedExpertsTouched(mixtral, 1), 1e-12);
        Assert.Equal(8.0 * (1 - (0.75 * 0.75)), MemoryTraffic.ExpectedExpertsTouched(mixtral, 2), 1e-12);
        Assert.Equal(8.0, MemoryTraffic.ExpectedExpertsTouched(mixtral, 512), 1e-6);
        Assert.Equal(1.0, MemoryTraffic.ExpectedExpertsTouched(ArchitectureCatalog.Get("EleutherAI/GPT-J"), 512));

        // Decoding one token reads about the active parameters (12.9B · 2 bytes), not all 46.7B.
        var decode = MemoryTraffic.ForwardPass(mixtral, 1, 0, 1, InferencePrecision.Fp16);
        Assert.Equal(2.0 * (mixtral.ActiveParameterCount - (32000.0 * 4096) + 4096), decode.WeightBytes, 1.0);
    }

    [Fact]
    public void Generation_ClosedFormEqualsSumOfPasses()
    {
        var llama = ArchitectureCatalog.Get("meta-llama/Meta-Llama-3-8B");
        const int p = 200, o = 25;
        var sum = default(BytesMoved);
        for (var i = p + 1; i <= p + o - 1; i++)
        {
            sum += MemoryTraffic.OutputToken(llama, i, 1, InferencePrecision.Fp16);
        }

        var closed = MemoryTraffic.Generation(llama, p, o, 1, InferencePrecision.Fp16);
        Assert.Equal(sum.WeightBytes, closed.WeightBytes, sum.WeightBytes * 1e-12);
        Assert.Equal(sum.KvCacheReadBytes, closed.KvCacheReadBytes, sum.KvCacheReadBytes * 1e-12);
        Assert.Equal(sum.KvCacheWriteBytes, closed.KvCacheWriteBytes, 1e-6);
        Assert.Equal(default, MemoryTraffic.Generation(llama, p, 1, 1, InferencePrecision.Fp16));
    }

    [Fact]
    public void WeightBytes_AndBadPrecision()
    {
        var gptj = ArchitectureCatalog.Get("EleutherAI/GPT-J");
        Assert.Equal(gptj.ParameterCount * 2.0, MemoryTraffic.WeightBytes(gptj, InferencePrecision.Fp16));
        Assert.Equal(gptj.ParameterCount * 0.5, MemoryTraffic.WeightBytes(gptj, InferencePrecision.Int4WeightsFp16Cache));
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => MemoryTraffic.WeightBytes(gptj, new InferencePrecision(0, 2)));
        Assert.Equal("WeightBytesPerParameter", e.ParamName);
    }

    [Fact]
    public void InvalidArchitecture_IsRefused_NotGivenNegativeBytes()
    {
        // Negative heads used to give negative bytes; the same check TransformerFlops makes now runs here.
        var bad = ArchitectureCatalog.Get("meta-llama/Meta-Llama-3-8B") with { Heads = -32, KeyValueHeads = -8 };
        Assert.Equal("Heads", Assert.Throws<ArgumentOutOfRangeException>(() => MemoryTraffic.WeightBytes(bad, InferencePrecision.Fp16)).ParamName);
        Assert.Equal("Heads", Assert.Throws<ArgumentOutOfRangeException>(() => MemoryTraffic.KvCacheBytesPerToken(bad, InferencePrecision.Fp16)).ParamName);
        Assert.Equal("Heads", Assert.Throws<ArgumentOutOfRangeException>(() => MemoryTraffic.KvCacheBytes(bad, InferencePrecision.Fp16, 2048)).ParamName);
    }
}
