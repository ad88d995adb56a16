using LlmEff.Core.Catalog;

namespace LlmEff.Core.Tests.Serialization;

/// <summary>
/// <see cref="RuntimeModel.Create(PiecewiseLinearFunction, double, double, RuntimeModelMetadata?)"/> and
/// <see cref="RuntimeModel.FromJson"/> apply the same checks: every model Create returns reads back from its own JSON, and
/// what FromJson refuses Create refuses too, in the same words.
/// </summary>
public class GivenModelRoundTripTests
{
    [Fact]
    public void ZeroPerOutputTokenTime_RoundTrips()
    {
        // g = 0 is a documented, legitimate parameter (a table that neglects decode); FromJson once refused it as a fit's
        // "not positive" finding.
        var model = RuntimeModel.Create([(1, 0.01), (512, 0.2)], perOutputTokenSeconds: 0.0);

        var back = RuntimeModel.FromJson(model.ToJson());

        Assert.Equal(0.0, back.PerOutputTokenSeconds);
        Assert.Equal(model.Predict(300, 5), back.Predict(300, 5));
    }

    [Fact]
    public void HelmTableWithZeroPerOutputTokenTime_RoundTrips()
    {
        const string table = "{\"m\": {\"runtime_per_output_token\": 0, \"runtime_for_prompt_tokens\": {\"1\": 0.1, \"2\": 0.2}}}";
        var model = HelmEfficiencyTables.Read(table)["m"];

        var back = RuntimeModel.FromJson(model.ToJson());

        Assert.Equal(model.PromptEncodingMode, back.PromptEncodingMode);
        Assert.Equal(model.Predict(2, 3), back.Predict(2, 3));
    }

    [Fact]
    public void ContextSlopeThatMakesDecodeNegative_IsRefusedByCreateAsByFromJson()
    {
        // g0 + g1·i = 30 ms − 10 ns·i is below 0 s past i = 3000, inside the knots' 1 to 4096: a step cannot take less than
        // no time. Create once accepted it and wrote a file FromJson refused.
        var pe = PiecewiseLinearFunction.FromPoints([1, 4096], [0.01, 0.5]);

        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => RuntimeModel.Create(pe, 0.03, -1e-5, 0.0, PromptEncodingMode.Interpolate));

        Assert.Equal("perOutputTokenContextSeconds", ex.ParamName);
        Assert.Contains("falls to", ex.Message, StringComparison.Ordinal);
        var hinge = Assert.Throws<ArgumentOutOfRangeException>(() => RuntimeModel.Create(pe, 0.03, -1e-5, 512, 0.0));
        Assert.Contains("falls to", hinge.Message, StringComparison.Ordinal);

        // The same parameters in a file: refused in the same words.
        var json = RuntimeModel.Create(pe, 0.03, 0, 0.0, PromptEncodingMode.Interpolate).ToJson();
        Assert.Contains("\"per_output_token_seconds\": 0.03", json, StringComparison.Ordinal);
        json = json.Replace("\"per_output_token_seconds\": 0.03", "\"per_output_token_seconds\": 0.03, \"per_output_token_context_seconds\": -1e-5", StringComparison.Ordinal);
        var read = Assert.Throws<InvalidDataException>(() => RuntimeModel.FromJson(json));
        Assert.Contains("falls to", read.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ContextSlopeThatFallsButStaysNonNegative_RoundTrips()
    {
        // A falling g1 is only refused where the per-token time would go below 0 s; 30 ms − 5 ns·i stays above 9 ms up to 4096.
        var pe = PiecewiseLinearFunction.FromPoints([1, 4096], [0.01, 0.5]);
        var model = RuntimeModel.Create(pe, 0.03, -5e-6, 0.0, PromptEncodingMode.Interpolate);

        var back = RuntimeModel.FromJson(model.ToJson());

        Assert.Equal(model.Predict(100, 10), back.Predict(100, 10));
    }
}
