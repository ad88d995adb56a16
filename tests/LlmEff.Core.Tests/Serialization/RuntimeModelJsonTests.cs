using LlmEff.Core.Reference;
using LlmEff.Core.Serialization;
using LlmEff.Core.Tests.Runtime;

namespace LlmEff.Core.Tests.Serialization;

public class RuntimeModelJsonTests
{
    [Fact]
    public void FittedModel_RoundTripsExactly()
    {
        var model = RuntimeModel.Fit(
            SyntheticSamples.Generate(3, r => 0.01 * r.NextDouble(), 5),
            new RuntimeFitOptions { Metadata = new RuntimeModelMetadata { ModelName = "test", Metric = RuntimeMetric.Idealized, Hardware = "H100", AcceleratorCount = 2 } });

        var back = RuntimeModel.FromJson(model.ToJson());

        Assert.Equal(model.PerOutputTokenSeconds, back.PerOutputTokenSeconds);
        Assert.Equal(model.OverheadSeconds, back.OverheadSeconds);
        Assert.Equal(model.RSquared, back.RSquared);
        Assert.Equal(model.Aggregation, back.Aggregation);
        Assert.Equal(model.Metadata, back.Metadata);
        Assert.Equal(model.PromptEncoding.Knots, back.PromptEncoding.Knots);
        Assert.Equal(model.Residuals, back.Residuals);
        Assert.Equal(model.PromptSizeFits.Count, back.PromptSizeFits.Count);
        for (var i = 0; i < model.PromptSizeFits.Count; i++)
        {
            Assert.Equal(model.PromptSizeFits[i].InterceptSeconds, back.PromptSizeFits[i].InterceptSeconds);
            Assert.Equal(model.PromptSizeFits[i].Residuals, back.PromptSizeFits[i].Residuals);
        }

        for (var p = 0; p < 2000; p += 37)
        {
            Assert.Equal(model.Predict(p, 17), back.Predict(p, 17));
        }
    }

    [Fact]
    public void Json_HasStableSchemaAndPropertyNames()
    {
        var json = PaperTable3.Get("Anthropic/v4-s3", RuntimeMetric.Idealized).ToJson();

        Assert.Contains("\"schema\": \"llmeff.runtime-model\"", json, StringComparison.Ordinal);
        Assert.Contains("\"schema_version\": 1", json, StringComparison.Ordinal);
        Assert.Contains("\"per_output_token_seconds\": 0.054", json, StringComparison.Ordinal);
        Assert.Contains("\"prompt_tokens\": 512", json, StringComparison.Ordinal);
        Assert.Contains("\"metric\": \"Idealized\"", json, StringComparison.Ordinal);
        Assert.DoesNotContain("r_squared", json, StringComparison.Ordinal); // NaN for a given model is omitted
        Assert.True(double.IsNaN(RuntimeModel.FromJson(json).RSquared));
    }

    [Fact]
    public void OtherSchemaVersion_ThrowsWithFix()
    {
        var json = PaperTable3.All[0].Model.ToJson().Replace("\"schema_version\": 1", "\"schema_version\": 7", StringComparison.Ordinal);
        var ex = Assert.Throws<InvalidDataException>(() => RuntimeModel.FromJson(json));
        Assert.Contains("schema_version 7", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Upgrade", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("[]")]
    [InlineData("{\"schema\": \"something-else\", \"schema_version\": 1}")]
    [InlineData("not json")]
    [InlineData("{\"schema\": \"llmeff.runtime-model\", \"schema_version\": 1}")]
    public void MalformedDocuments_Throw(string json) => Assert.Throws<InvalidDataException>(() => RuntimeModel.FromJson(json));

    [Fact]
    public void SaveAndLoad_File()
    {
        var path = Path.Combine(Path.GetTempPath(), $"llmeff-{Guid.NewGuid():N}.json");
        try
        {
            var model = PaperTable3.All[2].Model;
            RuntimeModelJson.Save(model, path);
            Assert.Equal(model.Predict(700, 20), RuntimeModelJson.Load(path).Predict(700, 20));
        }
        finally
        {
            File.Delete(path);
        }

        Assert.Throws<FileNotFoundException>(() => RuntimeModelJson.Load(path));
    }
}

/// <summary>Files that are not a physical model of this schema give one clear message naming the field and the fix.</summary>
public class RuntimeModelJsonBadInputTests
{
    private static string Valid => RuntimeModel.Create([(1, 0.02), (512, 0.1)], 0.03).ToJson();

    [Theory]
    [InlineData("\"per_output_token_seconds\": 0.03", "\"per_output_token_seconds\": -0.03", "per_output_token_seconds")]
    [InlineData("\"overhead_seconds\": 0", "\"overhead_seconds\": -1", "overhead_seconds")]
    [InlineData("\"seconds\": 0.1", "\"seconds\": -0.1", "prompt_encoding")]
    [InlineData("\"prompt_tokens\": 512", "\"prompt_tokens\": 1", "prompt_encoding")]
    [InlineData("\"overhead_seconds\": 0", "\"overhead_seconds\": 0, \"r_squared\": 5", "r_squared")]
    [InlineData("\"schema_version\": 1", "\"schema_version\": \"1\"", "\"schema_version\": 1 (no quotes)")]
    [InlineData("\"schema_version\": 1", "\"schema_version\": 1.5", "integer")]
    [InlineData("\"per_output_token_seconds\": 0.03", "\"per_output_token_seconds\": \"0.03\"", "per_output_token_seconds")]
    [InlineData("\"per_output_token_seconds\": 0.03,", "", "per_output_token_seconds")]
    [InlineData("\"overhead_seconds\": 0", "\"overhead_seconds\": \"none\"", "overhead_seconds")]
    [InlineData("\"overhead_seconds\": 0", "\"overhead_seconds\": 0, \"aggregation\": \"Maximum\"", "aggregation")]
    // Each valid alone, together a step that takes no time within the profiled contexts: refused, not predicted as 0 s.
    [InlineData("\"per_output_token_seconds\": 0.03", "\"per_output_token_seconds\": 0.03, \"per_output_token_context_seconds\": -0.001", "falls to")]
    // A key twice: the second would replace the first without a word.
    [InlineData("\"overhead_seconds\": 0", "\"overhead_seconds\": 0, \"overhead_seconds\": 5", "twice")]
    // A kept non-physical fit carries the warning that names it; an unrelated warning does not make a negative g acceptable.
    [InlineData("\"per_output_token_seconds\": 0.03", "\"per_output_token_seconds\": -0.05, \"aggregation\": \"Minimum\", \"warnings\": [{\"kind\": \"LowRSquared\", \"message\": \"x\"}]", "per_output_token_seconds")]
    public void EditedField_IsNamed(string find, string replace, string expected)
    {
        var json = Valid;
        Assert.Contains(find, json, StringComparison.Ordinal);
        var ex = Assert.Throws<InvalidDataException>(() => RuntimeModel.FromJson(json.Replace(find, replace, StringComparison.Ordinal)));

        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', ex.Message);
    }

    [Theory]
    [InlineData("\"per_output_token_seconds\": 0.03", "\"per_output_token_seconds\": 1e308", "per_output_token_seconds")]
    [InlineData("\"accelerator_count\": 2", "\"accelerator_count\": -3", "metadata.accelerator_count")]
    [InlineData("\"accelerator_hourly_price_usd\": 5", "\"accelerator_hourly_price_usd\": -3", "metadata.accelerator_hourly_price_usd")]
    public void AbsurdValuesAndProvenance_AreNamedAsTheFileIsRead(string find, string replace, string expected)
    {
        // A g of 1e308 s once reached the workload sums and failed there as "values[0] is Infinity"; a negative price
        // failed at the first cost, under the accelerator's name.
        var json = RuntimeModel.Create([(1, 0.02), (512, 0.1)], 0.03, metadata: new RuntimeModelMetadata { AcceleratorCount = 2, AcceleratorHourlyPriceUsd = 5 }).ToJson();
        Assert.Contains(find, json, StringComparison.Ordinal);

        var ex = Assert.Throws<InvalidDataException>(() => RuntimeModel.FromJson(json.Replace(find, replace, StringComparison.Ordinal)));

        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("   ", "empty")]
    [InlineData("[1, 2]", "is an object")]
    [InlineData("{\"name\": \"workload\", \"queries\": []}", "not an LlmEff runtime model")]
    [InlineData("\u0000\u0001\u0002binary", "Not valid JSON")]
    public void ForeignDocuments_SayWhatTheyAreNot(string json, string expected)
    {
        var ex = Assert.Throws<InvalidDataException>(() => RuntimeModel.FromJson(json));
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TruncatedDocument_GivesLineAndFix()
    {
        var json = Valid;
        var ex = Assert.Throws<InvalidDataException>(() => RuntimeModel.FromJson(json[..(json.Length / 2)]));
        Assert.Contains("truncated", ex.Message, StringComparison.Ordinal);
        Assert.Contains("line ", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void HelmModeWithKnotAtZero_IsRejected_NotNaN()
    {
        var json = RuntimeModel.Create([(0, 0.0), (512, 0.1)], 0.03).ToJson()
            .Replace("\"per_output_token_seconds\"", "\"prompt_encoding_mode\": \"HelmNextKeyScaled\", \"per_output_token_seconds\"", StringComparison.Ordinal);
        var ex = Assert.Throws<InvalidDataException>(() => RuntimeModel.FromJson(json));
        Assert.Contains("p >= 1", ex.Message, StringComparison.Ordinal);
    }
}
