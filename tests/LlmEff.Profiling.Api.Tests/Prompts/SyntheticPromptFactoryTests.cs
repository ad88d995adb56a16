
namespace LlmEff.Profiling.Api.Tests.Prompts;

public sealed class SyntheticPromptFactoryTests
{
    [Theory]
    [InlineData("cl100k_base")]
    [InlineData("o200k_base")]
    [InlineData("gpt2")]
    public void Prompts_HaveExactlyTheRequestedTokenCount(string encoding)
    {
        var factory = SyntheticPromptFactory.ForEncoding(encoding);
        foreach (var p in new[] { 1, 2, 7, 64, 513, 1536 })
        {
            for (var seed = 0; seed < 3; seed++)
            {
                var prompt = factory.Create(p, seed);
                Assert.Equal(p, prompt.TokenCount);
                Assert.Equal(p, factory.CountTokens(prompt.Text)); // re-encoding the text gives the same count
                Assert.Equal(prompt.TokenIds, factory.Tokenizer.EncodeToIds(prompt.Text));
            }
        }
    }

    [Fact]
    public void SameSeed_SamePrompt_OtherSeed_OtherPrompt()
    {
        var factory = SyntheticPromptFactory.ForEncoding("cl100k");
        Assert.Equal(factory.Create(100, 5).Text, factory.Create(100, 5).Text);
        Assert.NotEqual(factory.Create(100, 5).Text, factory.Create(100, 6).Text);
        Assert.Equal("cl100k_base", factory.EncodingName);
    }

    [Fact]
    public void ZeroTokens_IsTheEmptyPrompt()
    {
        var prompt = SyntheticPromptFactory.ForEncoding("o200k_base").Create(0, 1);
        Assert.Equal(string.Empty, prompt.Text);
        Assert.Equal(0, prompt.TokenCount);
    }

    [Fact]
    public void BadInput_IsRefusedWithTheValue()
    {
        var error = Assert.Throws<ArgumentException>(() => SyntheticPromptFactory.ForEncoding("llama-3"));
        Assert.Contains("llama-3", error.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => SyntheticPromptFactory.ForEncoding("gpt2").Create(-1, 0));
        Assert.Throws<FileNotFoundException>(() => SyntheticPromptFactory.ForSentencePieceModel("/nonexistent/tokenizer.model"));
    }
}
