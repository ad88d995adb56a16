using LlmEff.Core.Reference;

namespace LlmEff.Core.Tests.Reference;

public class PaperTable3Tests
{
    // Table 3 of Narayanan et al. 2023 (arXiv 2305.02440): PE at 512/1024/1536 and g, in seconds.
    [Theory]
    [InlineData("OpenAI/davinci", RuntimeMetric.Idealized, 0.178, 0.323, 0.476, 0.081)]
    [InlineData("OpenAI/davinci", RuntimeMetric.Denoised, 0.045, 0.033, 0.142, 0.030)]
    [InlineData("AI21/J1-Grande v1", RuntimeMetric.Idealized, 0.097, 0.190, 0.298, 0.038)]
    [InlineData("AI21/J1-Grande v1", RuntimeMetric.Denoised, 0.172, 0.351, 0.519, 0.021)]
    [InlineData("AI21/J1-Jumbo v1", RuntimeMetric.Idealized, 0.164, 0.310, 0.465, 0.064)]
    [InlineData("AI21/J1-Jumbo v1", RuntimeMetric.Denoised, 0.268, 0.463, 0.655, 0.042)]
    [InlineData("Anthropic/v4-s3", RuntimeMetric.Idealized, 0.108, 0.189, 0.279, 0.054)]
    [InlineData("Anthropic/v4-s3", RuntimeMetric.Denoised, 0.193, 0.191, 0.380, 0.057)]
    public void Table3_GivesThePapersRuntimes(string model, RuntimeMetric metric, double pe512, double pe1024, double pe1536, double g)
    {
        var m = PaperTable3.Get(model, metric);

        Assert.Equal(g, m.PerOutputTokenSeconds, 1e-12);
        Assert.Equal(pe512, m.PromptEncodingSeconds(512), 1e-12);
        Assert.Equal(pe1024, m.PromptEncodingSeconds(1024), 1e-12);
        Assert.Equal(pe1536, m.PromptEncodingSeconds(1536), 1e-12);

        // Eq. 3: t(p, o) = PE(p) + (o - 1) g, e.g. a 1024-token prompt generating 64 tokens.
        Assert.Equal(pe1024 + (63 * g), m.Predict(1024, 64), 1e-12);
        Assert.Equal(pe512, m.Predict(512, 1), 1e-12);
        Assert.Equal(metric, m.Metadata.Metric);
        Assert.Equal(0.0, m.OverheadSeconds);
    }

    [Fact]
    public void Table3_DavinciIdealizedIsSlowerThanDenoised()
    {
        // §5.2: OpenAI's API beats the Megatron/A100 idealized stack.
        var ideal = PaperTable3.Get("OpenAI/davinci", RuntimeMetric.Idealized);
        var denoised = PaperTable3.Get("OpenAI/davinci", RuntimeMetric.Denoised);
        Assert.True(ideal.Predict(1024, 32) > denoised.Predict(1024, 32));
    }

    [Fact]
    public void Table3_HasFourModelsTwice()
    {
        Assert.Equal(8, PaperTable3.All.Count);
        Assert.Equal(4, PaperTable3.Idealized.Count);
        Assert.Equal(4, PaperTable3.Denoised.Count);
        Assert.Equal([8, 1, 8, 4], PaperTable3.Idealized.Select(r => r.Model.Metadata.AcceleratorCount!.Value));
    }

    [Fact]
    public void Get_UnknownModel_ListsKnownNames()
    {
        var ex = Assert.Throws<KeyNotFoundException>(() => PaperTable3.Get("gpt-5", RuntimeMetric.Idealized));
        Assert.Contains("OpenAI/davinci", ex.Message, StringComparison.Ordinal);
    }
}
