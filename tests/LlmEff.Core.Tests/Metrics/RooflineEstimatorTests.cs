using LlmEff.Core.Architecture;
using LlmEff.Core.Hardware;
using LlmEff.Core.Metrics;

namespace LlmEff.Core.Tests.Metrics;

public class RooflineEstimatorTests
{
    private static readonly TransformerArchitecture GptJ = ArchitectureCatalog.Get("EleutherAI/GPT-J");

    [Fact]
    public void IdealRoofline_GptJOnA100_MatchesHandComputation()
    {
        // g: one token over 1,024 cached, memory-bound. Bytes: weights 2 · (6,051,291,136 − 206,438,400 + 4,096)
        // = 11,689,713,664 (one LayerNorm per layer: GPT-J's parallel block); cache read 1,024 · 458,752; write 458,752;
        // total 12,159,934,464 B / 2.039e12 B/s = 5.9637 ms.
        var model = RooflineEstimator.Estimate(GptJ, Accelerators.A100_80GB, 1);
        Assert.Equal(6_051_291_136, GptJ.ParameterCount);
        Assert.Equal(0.0059636756, model.PerOutputTokenSeconds, 1e-9);

        // PE(1024): compute-bound. 28 · (2·1024·4h² + 4h·1024² + 4·1024·h·16384) + 2·h·50400 = 12,026,321,305,600 FLOPs
        // / 312e12 FLOP/s = 38.5459 ms (memory would take 5.97 ms).
        Assert.Equal(0.0385459016, model.PromptEncodingSeconds(1024), 1e-9);

        // Two accelerators halve both terms.
        Assert.Equal(0.0385459016 / 2, RooflineEstimator.Estimate(GptJ, Accelerators.A100_80GB, 2).PromptEncodingSeconds(1024), 1e-9);
    }

    [Fact]
    public void Efficiencies_ScaleTheirTerms()
    {
        var half = new RooflineOptions { ComputeEfficiency = 0.5, MemoryEfficiency = 0.25 };
        var model = RooflineEstimator.Estimate(GptJ, Accelerators.A100_80GB, 1, half);
        Assert.Equal(0.0059636756 * 4, model.PerOutputTokenSeconds, 1e-9);
        Assert.Equal(0.0385459016 * 2, model.PromptEncodingSeconds(1024), 1e-9);
    }

    [Fact]
    public void Estimate_IsAnOrdinaryRuntimeModelWithRooflineMetadata()
    {
        var model = RooflineEstimator.Estimate(GptJ, Accelerators.H100_SXM, 1);
        Assert.Equal(RooflineOptions.DefaultPromptKnots, model.ProfiledPromptTokens);
        Assert.Equal("EleutherAI/GPT-J", model.Metadata.ModelName);
        Assert.Equal("H100-SXM", model.Metadata.Hardware);
        Assert.Equal(1, model.Metadata.AcceleratorCount);
        Assert.Contains("roofline", model.Metadata.Notes, StringComparison.OrdinalIgnoreCase);
        Assert.False(model.IsFitted);
        Assert.Equal(0.0, model.OverheadSeconds);
        var json = RuntimeModel.FromJson(model.ToJson());
        Assert.Equal(model.Predict(700, 20), json.Predict(700, 20), 1e-12);

        // Knots beyond the model's context are dropped: YaLM has 1,024 positions.
        var yalm = RooflineEstimator.Estimate(ArchitectureCatalog.Get("Yandex/YaLM"), Accelerators.A100_80GB, 4);
        Assert.Equal(1024, yalm.ProfiledPromptTokens.Max());
    }

    [Fact]
    public void Calibrate_RecoversEfficienciesFromASyntheticMeasurement()
    {
        // A "measured" model that is exactly the roofline at e_c = 0.4, e_m = 0.3 must calibrate back to those values.
        var truth = new RooflineOptions { ComputeEfficiency = 0.4, MemoryEfficiency = 0.3 };
        var measured = RooflineEstimator.Estimate(GptJ, Accelerators.A100_80GB, 1, truth);
        var calibrated = RooflineEstimator.Calibrate(GptJ, Accelerators.A100_80GB, 1, measured);
        Assert.Equal(0.4, calibrated.ComputeEfficiency, 1e-9);
        Assert.Equal(0.3, calibrated.MemoryEfficiency, 1e-9);
    }

    [Fact]
    public void BadInput_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => RooflineEstimator.Estimate(GptJ, Accelerators.A100_80GB, 0));
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => RooflineEstimator.Estimate(GptJ, Accelerators.A100_80GB, 1, new RooflineOptions { ComputeEfficiency = 0 }));
        Assert.Equal("ComputeEfficiency", e.ParamName);
        Assert.Throws<ArgumentException>(() => RooflineEstimator.Estimate(GptJ, Accelerators.A100_80GB, 1, new RooflineOptions { PromptKnots = [] }));
        var flat = RuntimeModel.Create([(1, 0.1), (512, 0.2)], 0.0);
        Assert.Throws<ArgumentException>(() => RooflineEstimator.Calibrate(GptJ, Accelerators.A100_80GB, 1, flat));
    }
}
