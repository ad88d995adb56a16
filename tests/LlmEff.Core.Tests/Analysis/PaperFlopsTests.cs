using LlmEff.Core.Analysis;
using LlmEff.Core.Architecture;

namespace LlmEff.Core.Tests.Analysis;

public class PaperFlopsTests
{
    [Fact]
    public void PromptEncoding_MatchesHandComputedValue()
    {
        // GPT-J (h 4096, l 28), p = 512, b = 1: 24 · 512 · 4096² · 28 = 5,772,436,045,824, times (1 + 512/24576) = 1.0208333…
        // gives 5,892,695,130,112 (computed by hand / python).
        Assert.Equal(5_892_695_130_112.0, PaperFlops.PromptEncoding(4096, 28, 512), 1.0);
        Assert.Equal(2 * 5_892_695_130_112.0, PaperFlops.PromptEncoding(4096, 28, 512, batchSize: 2), 2.0);
    }

    [Fact]
    public void OutputToken_MatchesHandComputedValue()
    {
        // davinci (h 12288, l 96), i = 2048: 24 · 12288² · 96 = 347,892,350,976, times (1 + 2048/73728) = 357,556,027,392.
        Assert.Equal(357_556_027_392.0, PaperFlops.OutputToken(12288, 96, 2048), 1.0);
    }

    [Fact]
    public void Davinci_AttentionTermUnderThreePercentAt2048Tokens()
    {
        // §3.1.1: "If i << 6h, which is largely true in practice (e.g., for OpenAI/davinci, the maximum context length
        // is 2048 and h=12288)". 2048 / (6 · 12288) = 0.02778.
        var davinci = ArchitectureCatalog.Get("OpenAI/davinci");
        var ratio = PaperFlops.AttentionTermRatio(davinci.HiddenSize, davinci.MaxContextTokens);
        Assert.Equal(0.027778, ratio, 1e-6);
        Assert.True(ratio < 0.03);
        var withTerm = PaperFlops.OutputToken(davinci, 2048);
        var withoutTerm = 24.0 * 12288.0 * 12288.0 * 96.0;
        Assert.True((withTerm - withoutTerm) / withoutTerm < 0.03);
    }

    [Fact]
    public void Generation_ClosedFormEqualsSumOverTokens()
    {
        // o − 1 passes with i = p + 1 … p + o − 1 (the first output token comes from prompt encoding).
        const int p = 300, o = 17;
        var sum = 0.0;
        for (var i = p + 1; i <= p + o - 1; i++)
        {
            sum += PaperFlops.OutputToken(4096, 28, i);
        }

        Assert.Equal(sum, PaperFlops.Generation(4096, 28, p, o), sum * 1e-12);
        Assert.Equal(0.0, PaperFlops.Generation(4096, 28, p, 1));
        Assert.Equal(PaperFlops.PromptEncoding(4096, 28, p) + sum, PaperFlops.Query(4096, 28, p, o), sum * 1e-12);
    }

    [Fact]
    public void BadInput_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => PaperFlops.PromptEncoding(4096, 28, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => PaperFlops.OutputToken(0, 28, 5));
        Assert.Throws<ArgumentOutOfRangeException>(() => PaperFlops.Generation(4096, 28, 5, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => PaperFlops.PromptEncoding(4096, 28, 5, batchSize: 0));
    }
}
