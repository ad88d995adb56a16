using LlmEff.Core.Architecture;

namespace LlmEff.Core.Tests.Architecture;

public class ArchitectureCatalogTests
{
    // Each row: name, published total, and where the total was published. Computed counts must be within 3%.
    [Theory]
    [InlineData("OpenAI/davinci", 175e9)] // Brown et al. 2020, Table 2.1 (GPT-3 175B); paper Table 1.
    [InlineData("AI21/J1-Large v1", 7.5e9)] // Lieber et al. 2021, Table 1 (Jurassic-1 Large 7.5B); paper Table 1 lists 6.7B.
    [InlineData("AI21/J1-Grande v1", 17e9)] // Paper Table 1 (17B).
    [InlineData("AI21/J1-Jumbo v1", 178e9)] // Lieber et al. 2021, Table 1 (178B); paper Table 1.
    [InlineData("Cohere/XL v20220609", 52e9)] // Paper Table 1 (52B).
    [InlineData("Anthropic/v4-s3", 52e9)] // Paper Table 1 (52B); Askell et al. 2021.
    [InlineData("Microsoft+NV/TNLG v2", 530e9)] // Smith et al. 2022 (MT-NLG 530B); paper Table 1.
    [InlineData("EleutherAI/GPT-J", 6_053_381_344)] // kingoflolz/mesh-transformer-jax README: 6,053,381,344 parameters.
    [InlineData("Yandex/YaLM", 100e9)] // yandex/YaLM-100B README ("100 billion parameters"); paper Table 1.
    [InlineData("BigScience/BL00M", 176_247_271_424)] // bigscience/bloom model card: 176,247,271,424 parameters.
    [InlineData("meta-llama/Meta-Llama-3-8B", 8.03e9)] // Hugging Face model page: 8.03B params.
    [InlineData("meta-llama/Meta-Llama-3-70B", 70.6e9)] // Hugging Face model page: 70.6B params.
    [InlineData("mistralai/Mistral-7B-v0.1", 7.24e9)] // Hugging Face model page: 7.24B params.
    [InlineData("mistralai/Mixtral-8x7B-v0.1", 46.7e9)] // Mistral AI, "Mixtral of experts" (2023-12-11): 46.7B total.
    [InlineData("Qwen/Qwen2.5-7B", 7.61e9)] // Qwen2.5-7B model card: "Number of Parameters: 7.61B".
    [InlineData("Qwen/Qwen2.5-72B", 72.7e9)] // Qwen2.5-72B model card: "Number of Parameters: 72.7B".
    [InlineData("EleutherAI/gpt-j-6b", 6_053_381_344)] // As GPT-J above.
    public void ComputedParameterCount_WithinThreePercentOfPublished(string name, double published)
    {
        var a = ArchitectureCatalog.Get(name).Validate();
        Assert.Equal(published, a.ParameterCount, 0.03 * published);
        Assert.Equal(published, (double)a.PublishedParameterCount!.Value, 0.001 * published);
    }

    [Fact]
    public void Mixtral_ActiveParametersMatchPublished()
    {
        // Mistral AI, "Mixtral of experts" (2023-12-11): 12.9B parameters used per token (2 of 8 experts).
        var a = ArchitectureCatalog.Get("mistralai/Mixtral-8x7B-v0.1");
        Assert.Equal(12.9e9, a.ActiveParameterCount, 0.03 * 12.9e9);
    }

    [Fact]
    public void PaperTable1_HasTheTenModelsWithTheTablesShapes()
    {
        // Paper Table 1: name, h, l, n.
        (string Name, int H, int L, int N)[] table1 =
        [
            ("OpenAI/davinci", 12288, 96, 96), ("AI21/J1-Large v1", 4096, 32, 32), ("AI21/J1-Grande v1", 5120, 50, 40),
            ("AI21/J1-Jumbo v1", 13824, 76, 96), ("Cohere/XL v20220609", 8192, 64, 64), ("Anthropic/v4-s3", 8192, 64, 64),
            ("Microsoft+NV/TNLG v2", 20480, 105, 128), ("EleutherAI/GPT-J", 4096, 28, 16), ("Yandex/YaLM", 10240, 80, 128),
            ("BigScience/BL00M", 14336, 70, 112),
        ];
        Assert.Equal(table1.Select(r => r.Name), ArchitectureCatalog.PaperTable1.Select(a => a.Name));
        foreach (var (name, h, l, n) in table1)
        {
            var a = ArchitectureCatalog.Get(name);
            Assert.Equal((h, l, n), (a.HiddenSize, a.Layers, a.Heads));
        }
    }

    [Fact]
    public void Get_IsCaseInsensitive_AndUnknownNamesListCloseOnes()
    {
        Assert.Same(ArchitectureCatalog.Get("OpenAI/davinci"), ArchitectureCatalog.Get("openai/DAVINCI"));
        var e = Assert.Throws<KeyNotFoundException>(() => ArchitectureCatalog.Get("OpenAI/davinchi"));
        Assert.Contains("'OpenAI/davinci'", e.Message);
        Assert.Contains("OpenAI/davinchi", e.Message);
        Assert.Equal("BigScience/BL00M", ArchitectureCatalog.ClosestNames("bloom", 1)[0]);
        Assert.False(ArchitectureCatalog.TryGet("nope", out _));

        // The paper prints BLOOM with zeros; the usual spelling finds it too.
        Assert.Same(ArchitectureCatalog.Get("BigScience/BL00M"), ArchitectureCatalog.Get("BigScience/BLOOM"));
    }

    [Fact]
    public void EveryEntryValidates_AndNamesAreUnique()
    {
        Assert.All(ArchitectureCatalog.All, a => a.Validate());
        Assert.Equal(ArchitectureCatalog.Names.Count, ArchitectureCatalog.Names.Distinct(StringComparer.OrdinalIgnoreCase).Count());
        Assert.True(ArchitectureCatalog.OpenModels.Count >= 6);
    }
}
