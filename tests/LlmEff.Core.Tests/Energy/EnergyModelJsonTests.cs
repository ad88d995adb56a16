using System.Text.Json.Nodes;
using LlmEff.Core.Energy;

namespace LlmEff.Core.Tests.Energy;

public class EnergyModelJsonTests
{
    private static EnergyModel Fitted()
    {
        var samples = from p in new[] { 1, 512, 1536 }
                      from o in new[] { 1, 16, 32 }
                      select new ProfilingSample(p, o, 0.01 * o) { EnergyJoules = 2 + (0.01 * p) + (2.5 * (o - 1)) + (0.01 * (p % 7)) };
        return EnergyModel.Fit(samples) with
        {
            AcceleratorCount = 2,
            IdlePowerWatts = 134.88893507973955,
            BoardPowerWatts = 700,
            CounterResolutionJoules = 0.001,
            CounterUpdateIntervalSeconds = 0.1005691,
            Metadata = new EnergyModelMetadata
            {
                ModelName = "EleutherAI/GPT-J",
                Hardware = "NVIDIA H100 80GB HBM3",
                Software = "LlmEff TorchScript decoder",
                Source = "gpt-j-samples.csv",
                MeasuredUtc = new DateTimeOffset(2026, 11, 24, 16, 25, 19, TimeSpan.Zero).AddTicks(738053),
                Notes = "9 of 9 samples carry energy",
            },
        };
    }

    [Fact]
    public void RoundTrip_KeepsEveryValue()
    {
        var model = Fitted();
        var back = EnergyModel.FromJson(model.ToJson());

        Assert.Equal(model.PromptEncodingJoules.Knots, back.PromptEncodingJoules.Knots);
        Assert.Equal(model.PerOutputTokenJoules, back.PerOutputTokenJoules);
        Assert.Equal(model.RSquared, back.RSquared);
        Assert.Equal(model.Aggregation, back.Aggregation);
        Assert.Equal(model.Residuals, back.Residuals);
        Assert.Equal(2, back.AcceleratorCount);
        Assert.Equal(model.IdlePowerWatts, back.IdlePowerWatts);
        Assert.Equal(700, back.BoardPowerWatts);
        Assert.Equal(0.001, back.CounterResolutionJoules);
        Assert.Equal(0.1005691, back.CounterUpdateIntervalSeconds);
        Assert.Equal(model.Metadata, back.Metadata);
        Assert.Equal(model.PredictJoules(700, 33), back.PredictJoules(700, 33));
        Assert.Equal(model.ToJson(), back.ToJson());
    }

    [Fact]
    public void Json_NamesUnitsAndKind()
    {
        var root = JsonNode.Parse(Fitted().ToJson())!.AsObject();
        Assert.Equal(EnergyModelJson.Kind, (string?)root["kind"]);
        Assert.Equal(EnergyModelJson.SchemaVersion, (int?)root["schema_version"]);
        Assert.NotNull(root["per_output_token_joules"]);
        Assert.NotNull(root["prompt_encoding_joules"]![0]!["joules"]);
        Assert.NotNull(root["idle_power_watts"]);
        Assert.NotNull(root["residuals"]![0]!["observed_joules"]);
        Assert.DoesNotContain("seconds\"", Fitted().ToJson().Replace("counter_update_interval_seconds", string.Empty, StringComparison.Ordinal), StringComparison.Ordinal);
    }

    [Fact]
    public void Unknowns_AreLeftOut_AndReadBackAsNull()
    {
        var model = EnergyModel.Create([new(1, 2.0), new(512, 8.0)], 2.5);
        var json = model.ToJson();
        Assert.DoesNotContain("idle_power_watts", json, StringComparison.Ordinal);
        Assert.DoesNotContain("r_squared", json, StringComparison.Ordinal);
        var back = EnergyModel.FromJson(json);
        Assert.Null(back.IdlePowerWatts);
        Assert.Null(back.BoardPowerWatts);
        Assert.Null(back.Aggregation);
        Assert.True(double.IsNaN(back.RSquared));
        Assert.Equal(1, back.AcceleratorCount);
        Assert.Equal(new EnergyModelMetadata(), back.Metadata);
    }

    [Fact]
    public void AnotherKind_SaysWhatItIsAndWhatWasExpected()
    {
        var runtime = RuntimeModel.Create([(1, 0.01)], 0.005).ToJson();
        var ex = Assert.Throws<InvalidDataException>(() => EnergyModel.FromJson(runtime));
        Assert.Contains("runtime model", ex.Message, StringComparison.Ordinal);
        Assert.Contains("\"kind\": \"llmeff.energy-model\"", ex.Message, StringComparison.Ordinal);

        ex = Assert.Throws<InvalidDataException>(() => EnergyModel.FromJson("""{"kind": "llmeff.workload", "schema_version": 1}"""));
        Assert.Contains("\"llmeff.workload\"", ex.Message, StringComparison.Ordinal);
        Assert.Contains("expected", ex.Message, StringComparison.Ordinal);

        ex = Assert.Throws<InvalidDataException>(() => EnergyModel.FromJson("""{"schema": "llmeff.energy-model", "schema_version": 1, "energy": {}}"""));
        Assert.Contains("version-1", ex.Message, StringComparison.Ordinal);
        Assert.Contains("re-fit", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnotherVersion_SaysWhichAndWhatWasExpected()
    {
        var json = Fitted().ToJson().Replace("\"schema_version\": 2", "\"schema_version\": 3", StringComparison.Ordinal);
        var ex = Assert.Throws<InvalidDataException>(() => EnergyModel.FromJson(json));
        Assert.Contains("schema_version 3", ex.Message, StringComparison.Ordinal);
        Assert.Contains("\"schema_version\": 2", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("not json", "Not valid JSON")]
    [InlineData("[1]", "not an object")]
    [InlineData("""{"kind": "llmeff.energy-model", "schema_version": 2, "per_output_token_joules": 1}""", "prompt_encoding_joules")]
    [InlineData("""{"kind": "llmeff.energy-model", "schema_version": 2, "prompt_encoding_joules": [], "per_output_token_joules": 1}""", "no knots")]
    [InlineData("""{"kind": "llmeff.energy-model", "schema_version": 2, "prompt_encoding_joules": [{"prompt_tokens": 1, "joules": 1}], "per_output_token_joules": -1}""", "perOutputTokenJoules")]
    [InlineData("""{"kind": "llmeff.energy-model", "schema_version": 2, "prompt_encoding_joules": [{"prompt_tokens": 1, "joules": 1}], "per_output_token_joules": 1, "idle_power_watts": -5}""", "IdlePowerWatts")]
    [InlineData("""{"kind": "llmeff.energy-model", "schema_version": 2, "prompt_encoding_joules": [{"prompt_tokens": 1, "joules": 1}], "per_output_token_joules": 1, "accelerator_count": 0}""", "AcceleratorCount")]
    [InlineData("""{"kind": "llmeff.energy-model", "schema_version": 2, "prompt_encoding_joules": [{"prompt_tokens": 1, "joules": 1}], "per_output_token_joules": "x"}""", "Invalid energy model")]
    public void Malformed_FailsWithInvalidData(string json, string fragment)
    {
        var ex = Assert.Throws<InvalidDataException>(() => EnergyModel.FromJson(json));
        Assert.Contains(fragment, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SaveLoadAndCompanion()
    {
        var dir = Directory.CreateTempSubdirectory("llmeff-energy-");
        try
        {
            var modelPath = Path.Combine(dir.FullName, "gptj.json");
            Assert.Equal(Path.Combine(dir.FullName, "gptj.energy.json"), EnergyModelJson.CompanionPath(modelPath));
            Assert.Null(EnergyModelJson.TryLoadCompanion(modelPath));
            EnergyModelJson.Save(Fitted(), EnergyModelJson.CompanionPath(modelPath));
            Assert.Equal(Fitted().PerOutputTokenJoules, EnergyModelJson.TryLoadCompanion(modelPath)!.PerOutputTokenJoules);

            File.WriteAllText(modelPath, "{}");
            var ex = Assert.Throws<InvalidDataException>(() => EnergyModelJson.Load(modelPath));
            Assert.StartsWith($"'{modelPath}'", ex.Message, StringComparison.Ordinal);
            Assert.Throws<FileNotFoundException>(() => EnergyModelJson.Load(Path.Combine(dir.FullName, "missing.json")));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
