using LlmEff.Core.Catalog;
using LlmEff.Tests.Shared;

namespace LlmEff.Core.Tests.Catalog;

public class HelmEfficiencyTablesTests
{
    private const string Table = """
        {
          "ai21/j1-large": { "runtime_per_output_token": 0.016, "runtime_for_prompt_tokens": { "1": 0.016, "256": 0.065, "512": 0.184 }, "overhead": 0.237 },
          "openai/ada": { "runtime_per_output_token": 0.019, "runtime_for_prompt_tokens": { "1": 0.021, "512": 0.025 } }
        }
        """;

    [Fact]
    public void HelmMode_ReproducesHelmsNextKeyScaledEstimator()
    {
        var m = HelmEfficiencyTables.Read(Table, PromptEncodingMode.HelmNextKeyScaled)["ai21/j1-large"];

        // HELM: smallest key >= p, scaled by p/key; plus (o-1)·g + overhead.
        Assert.Equal((0.065 * 100 / 256) + (9 * 0.016) + 0.237, m.Predict(100, 10), 1e-12);
        Assert.Equal(0.016 + 0.237, m.Predict(1, 1), 1e-12);
        // The quirk at small p: p = 2 costs 2/256 of PE(256), far below PE(1).
        Assert.Equal(0.065 * 2 / 256, m.PromptEncodingSeconds(2), 1e-15);
        // Above the largest key the largest is scaled.
        Assert.Equal(0.184 * 1024 / 512, m.PromptEncodingSeconds(1024), 1e-12);
        Assert.Equal(0.237, m.OverheadSeconds);
    }

    [Fact]
    public void InterpolateMode_InterpolatesTheSameKnots()
    {
        var m = HelmEfficiencyTables.Read(Table)["ai21/j1-large"];
        Assert.Equal(0.016 + ((0.065 - 0.016) * 99 / 255), m.PromptEncodingSeconds(100), 1e-12);
        Assert.Equal(0.016, m.PromptEncodingSeconds(1), 1e-15);
    }

    [Fact]
    public void WriteThenRead_RoundTrips()
    {
        var models = HelmEfficiencyTables.Read(Table, PromptEncodingMode.HelmNextKeyScaled);
        var back = HelmEfficiencyTables.Read(HelmEfficiencyTables.Write(models), PromptEncodingMode.HelmNextKeyScaled);
        Assert.Equal(models.Keys, back.Keys);
        foreach (var (name, model) in models)
        {
            Assert.Equal(model.Predict(300, 12), back[name].Predict(300, 12), 1e-15);
        }
    }

    [Fact]
    public void Write_RefusesContextTerm()
    {
        var m = RuntimeModel.Create(new PiecewiseLinearFunction([new(1, 0.1), new(2, 0.2)]), 0.01, 1e-6, 0, PromptEncodingMode.Interpolate);
        Assert.Throws<ArgumentException>(() => HelmEfficiencyTables.Write(new Dictionary<string, RuntimeModel> { ["x"] = m }));
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("{\"m\": {\"runtime_per_output_token\": 0.1}}")]
    [InlineData("{\"m\": {\"runtime_per_output_token\": 0.1, \"runtime_for_prompt_tokens\": {\"abc\": 1}}}")]
    [InlineData("{\"m\": {\"runtime_for_prompt_tokens\": {\"1\": 1}}}")]
    public void Malformed_Throws(string json) => Assert.Throws<InvalidDataException>(() => HelmEfficiencyTables.Read(json));

    [Theory]
    [InlineData("{\"a/m\": {\"runtime_per_output_token\": -0.01, \"runtime_for_prompt_tokens\": {\"1\": 0.1}}}", "g must be")]
    [InlineData("{\"a/m\": {\"runtime_per_output_token\": 0.01, \"runtime_for_prompt_tokens\": {\"256\": 0.1, \"0256\": 0.2}}}", "256")]
    [InlineData("{\"a/m\": {\"runtime_per_output_token\": 0.01, \"runtime_for_prompt_tokens\": {\"1\": 0.1}}, \"a/m\": {}}", "twice")]
    public void BadValues_NameTheEntry(string json, string fragment)
    {
        var ex = Assert.Throws<InvalidDataException>(() => HelmEfficiencyTables.Read(json));
        Assert.Contains(fragment, ex.Message, StringComparison.Ordinal);
        Assert.Contains("a/m", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("(Parameter", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SharedTables_LoadEveryModel()
    {
        var idealized = HelmEfficiencyTables.ReadFile(SharedData.Require("helm/inference_idealized_runtimes.json"), PromptEncodingMode.HelmNextKeyScaled, RuntimeMetric.Idealized);
        var denoised = HelmEfficiencyTables.ReadFile(SharedData.Require("helm/inference_denoised_runtimes.json"), PromptEncodingMode.HelmNextKeyScaled, RuntimeMetric.Denoised);

        Assert.Equal(19, idealized.Count);
        Assert.Equal(18, denoised.Count);
        // openai/davinci's idealized table (keys 1..1920) matches Table 3 at 512/1024/1536 to the paper's rounding.
        var davinci = idealized["openai/davinci"];
        Assert.Equal(0.081, davinci.PerOutputTokenSeconds, 0.002);
        Assert.Equal(0.323, davinci.PromptEncodingSeconds(1024), 0.005);
        Assert.Contains(denoised.Values, m => m.OverheadSeconds > 0);
    }

    [Fact]
    public void Read_Stream_EqualsReadText_AndLeavesTheStreamOpen()
    {
        using var stream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(Table));

        var models = HelmEfficiencyTables.Read(stream, "table.json", PromptEncodingMode.HelmNextKeyScaled, RuntimeMetric.Denoised);

        Assert.True(stream.CanRead);
        Assert.Equal(RuntimeMetric.Denoised, models["openai/ada"].Metadata.Metric);
        Assert.Equal(HelmEfficiencyTables.Read(Table, PromptEncodingMode.HelmNextKeyScaled)["ai21/j1-large"].Predict(100, 10), models["ai21/j1-large"].Predict(100, 10), 1e-15);
    }

    [Fact]
    public void Read_Stream_NotHelm_NamesTheSource()
    {
        using var stream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes("model,accuracy\nA,1\n"));
        var ex = Assert.Throws<InvalidDataException>(() => HelmEfficiencyTables.Read(stream, "runs.csv"));
        Assert.StartsWith("runs.csv: ", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadFile_MissingOrNotHelm_NamesTheFile()
    {
        var missing = Assert.Throws<FileNotFoundException>(() => HelmEfficiencyTables.ReadFile("/nonexistent/inference_idealized_runtimes.json"));
        Assert.Contains("/nonexistent/inference_idealized_runtimes.json", missing.Message, StringComparison.Ordinal);

        var path = Path.Combine(Path.GetTempPath(), $"llmeff-nothelm-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, "{\"m\": {\"runtime_per_output_token\": 0.1}}");
        try
        {
            var ex = Assert.Throws<InvalidDataException>(() => HelmEfficiencyTables.ReadFile(path));
            Assert.Contains(path, ex.Message, StringComparison.Ordinal);
            Assert.Contains("'m'", ex.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
