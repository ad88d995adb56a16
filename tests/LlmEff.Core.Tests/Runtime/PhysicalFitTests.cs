using LlmEff.Core.Serialization;
using static LlmEff.Core.Tests.Runtime.SyntheticSamples;

namespace LlmEff.Core.Tests.Runtime;

/// <summary>A fit that is not physical is refused with reasons, or kept with warnings only when asked; predictions never go negative.</summary>
public class PhysicalFitTests
{
    // Runtime falls as more tokens are generated: what swapped or mislabelled columns look like.
    private static List<ProfilingSample> Shrinking()
        => (from p in PaperPrompts from o in Outputs select new ProfilingSample(p, o, 3.0 + TruePe(p) - (0.03 * (o - 1)))).ToList();

    // At p = 1 the line through (o = 1, 2, 11) has a negative intercept: PE(1) < 0 and t(1, 1) < 0.
    private static List<ProfilingSample> NegativeIntercept()
        => [new(1, 1, 0.001), new(1, 2, 0.001), new(1, 11, 1.0), .. Generate(1, _ => 0, 1, prompts: [512, 1024])];

    [Fact]
    public void NonPositiveG_IsRefused_WithWhatWhyAndWhatNext()
    {
        var ex = Assert.Throws<RuntimeFitException>(() => RuntimeModel.Fit(Shrinking()));

        Assert.Contains(ex.Findings, f => f.Kind == RuntimeFitWarningKind.NonPositiveDecodeTime);
        Assert.Contains("g = -30 ms/token is not positive", ex.Message, StringComparison.Ordinal);
        Assert.Contains("mixed-up column", ex.Message, StringComparison.Ordinal);
        Assert.Contains("o = 1, 16, 64", ex.Message, StringComparison.Ordinal);
        Assert.Contains(nameof(RuntimeFitOptions.KeepNonPhysicalFit), ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', ex.Message);
        Assert.Same(ex.Findings, ex.RefusedModel.Warnings);
    }

    [Fact]
    public void NonPositiveG_Kept_CarriesWarnings_AndPredictionsNeverGoNegative()
    {
        var model = RuntimeModel.Fit(Shrinking(), new RuntimeFitOptions { KeepNonPhysicalFit = true });

        Assert.True(model.PerOutputTokenSeconds < 0);
        Assert.Contains(model.Warnings, w => w.Kind == RuntimeFitWarningKind.NonPositiveDecodeTime);
        int[] p = [1, 100, 512, 1536, 4000, 1, 1, 1, 2, 3];
        int[] o = [1, 500, 1000, 2000, 5000, 64, 65, 100, 1, 10_000];
        var batch = model.PredictBatch(p, o);
        for (var i = 0; i < p.Length; i++)
        {
            Assert.True(batch[i] >= 0, $"PredictBatch({p[i]}, {o[i]}) = {batch[i]}");
            Assert.Equal(model.Predict(p[i], o[i]), batch[i]);
            Assert.True(model.PromptEncodingSeconds(p[i]) >= 0);
        }

        Assert.Equal(0.0, model.Predict(1, 10_000));
        Assert.Equal(0.0, model.Explain(1, 10_000).TotalSeconds);
    }

    [Fact]
    public void NegativeKnotAndPrediction_AreNamed()
    {
        var ex = Assert.Throws<RuntimeFitException>(() => RuntimeModel.Fit(NegativeIntercept()));

        Assert.Contains(ex.Findings, f => f.Kind == RuntimeFitWarningKind.NegativePromptEncoding && f.Message.Contains("p = 1 (", StringComparison.Ordinal));
        Assert.Contains(ex.Findings, f => f.Kind == RuntimeFitWarningKind.NegativePrediction && f.Message.Contains("t(1, 1)", StringComparison.Ordinal));
        Assert.Contains("trials", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void OverheadLargerThanRuntimes_GivesNegativeKnots_NotNegativePredictions()
    {
        var ex = Assert.Throws<RuntimeFitException>(() => RuntimeModel.Fit(Generate(1, _ => 0, 1), new RuntimeFitOptions { Overhead = OverheadMode.Fixed, FixedOverheadSeconds = 1.0 }));

        // PE + overhead is the measured intercept, so t stays positive; the clamped PE then misses every sample (low R²).
        Assert.Contains(ex.Findings, f => f.Kind == RuntimeFitWarningKind.NegativePromptEncoding);
        Assert.DoesNotContain(ex.Findings, f => f.Kind == RuntimeFitWarningKind.NegativePrediction);
        Assert.Contains("overhead larger than the runtimes", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CleanFit_HasNoWarnings()
        => Assert.Empty(RuntimeModel.Fit(Generate(1, _ => 0, 1)).Warnings);

    [Fact]
    public void Bootstrap_RefusesANonPhysicalCentralFit_ButKeepsItWhenAsked()
    {
        Assert.Throws<RuntimeFitException>(() => RuntimeModel.Bootstrap(Shrinking(), resamples: 20));
        var kept = RuntimeModel.Bootstrap(Shrinking(), new RuntimeFitOptions { KeepNonPhysicalFit = true }, resamples: 20);
        Assert.True(kept.PerOutputTokenSeconds.Estimate < 0);
        Assert.Throws<RuntimeFitException>(() => RuntimeModel.FitAndAssess(Shrinking(), resamples: 20));
    }

    [Fact]
    public void Bootstrap_OfAKeptFitThatPredictsZeroSomewhere_GivesFiniteIntervals()
    {
        // t(1, 1) comes out negative and is clamped to 0: no relative residual exists there, and none may become NaN.
        var kept = RuntimeModel.Bootstrap(NegativeIntercept(), new RuntimeFitOptions { KeepNonPhysicalFit = true }, resamples: 50);

        Assert.Contains(RuntimeModel.Fit(NegativeIntercept(), new RuntimeFitOptions { KeepNonPhysicalFit = true }).Warnings, w => w.Kind == RuntimeFitWarningKind.NegativePrediction);
        Assert.All(kept.PromptEncoding, k => Assert.True(double.IsFinite(k.Value.Lower) && double.IsFinite(k.Value.Upper)));
        Assert.True(double.IsFinite(kept.PerOutputTokenSeconds.Lower) && double.IsFinite(kept.PerOutputTokenSeconds.Upper));
    }

    [Fact]
    public void CrossValidation_FitsNoiseWithoutRefusing()
    {
        // Folds refit subsets on purpose; the report is how one learns the fit is poor, so it must not throw.
        var report = RuntimeModel.CrossValidate(Generate(1, r => 0.5 * r.NextDouble(), 9));
        Assert.NotNull(report.LeaveOnePromptSizeOut);
    }

    [Theory]
    [InlineData(1e308)]
    [InlineData(2e9)]
    public void AbsurdRuntime_NamesTheSampleAndTheUnit(double seconds)
    {
        var samples = Generate(1, _ => 0, 1);
        samples[3] = samples[3] with { RuntimeSeconds = seconds };

        var ex = Assert.Throws<ArgumentException>(() => RuntimeModel.Fit(samples));

        Assert.Contains("samples[3]", ex.Message, StringComparison.Ordinal);
        Assert.Contains("in seconds", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("not finite", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(1.5)]
    public void RSquaredThreshold_OutOfRange_Throws(double threshold)
        => Assert.Throws<ArgumentOutOfRangeException>(() => RuntimeModel.Fit(Generate(1, _ => 0, 1), new RuntimeFitOptions { RSquaredWarningThreshold = threshold }));

    [Fact]
    public void Create_RejectsNegativeKnots()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => RuntimeModel.Create([(1, 0.02), (512, -0.1)], 0.01));
        Assert.Contains("PE(512)", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ComposedModels_CarryTheShardsWarnings()
    {
        var kept = RuntimeModel.Fit(Generate(1, r => 0.5 * r.NextDouble(), 9), new RuntimeFitOptions { KeepNonPhysicalFit = true });
        Assert.NotEmpty(kept.Warnings);

        var pipeline = LlmEff.Core.Parallelism.ParallelComposition.ComposePipeline([kept, RuntimeModel.Create([(1, 0.02), (1536, 0.3)], 0.03)], 4096, LlmEff.Core.Hardware.Interconnects.InfiniBandHdr);

        Assert.Equal(kept.Warnings, pipeline.Warnings);
    }

    [Fact]
    public void A_pipeline_with_a_stage_kept_at_a_negative_g_is_kept_too_with_its_warnings()
    {
        var kept = RuntimeModel.Fit(Shrinking(), new RuntimeFitOptions { KeepNonPhysicalFit = true });
        var physical = RuntimeModel.Create([(1, 0.02), (1536, 0.3)], 0.01);

        var pipeline = LlmEff.Core.Parallelism.ParallelComposition.ComposePipeline([physical, kept], 4096, LlmEff.Core.Hardware.Interconnects.InfiniBandHdr);

        Assert.Equal(kept.Warnings, pipeline.Warnings);
        Assert.True(pipeline.PerOutputTokenSeconds < 0);
        Assert.Equal(kept.PerOutputTokenSeconds + physical.PerOutputTokenSeconds, pipeline.PerOutputTokenSeconds, 4);
        Assert.All(new[] { (1, 1), (512, 64), (1536, 2000) }, q => Assert.True(pipeline.Predict(q.Item1, q.Item2) >= 0));
        // Its file loads as a kept fit's does (the kept stage's record comes along).
        var back = RuntimeModelJson.Deserialize(pipeline.ToJson());
        Assert.Equal(pipeline.PerOutputTokenSeconds, back.PerOutputTokenSeconds, 12);
        Assert.Equal(pipeline.Warnings.Count, back.Warnings.Count);
        // Physical stages alone still compose through the checks of RuntimeModel.Create.
        Assert.Empty(LlmEff.Core.Parallelism.ParallelComposition.ComposePipeline([physical, physical], 4096, LlmEff.Core.Hardware.Interconnects.InfiniBandHdr).Warnings);
    }

    [Fact]
    public void EditedFile_WithNegativeG_AndNoFitRecord_IsRejectedEvenWithWarnings()
    {
        // Only a fit's own record (aggregation plus warnings) may carry a negative g; a given model may not.
        var json = RuntimeModel.Create([(1, 0.02), (512, 0.1)], 0.03).ToJson()
            .Replace("\"per_output_token_seconds\": 0.03", "\"per_output_token_seconds\": -0.03, \"warnings\": [ { \"kind\": \"NonPositiveDecodeTime\", \"message\": \"g < 0\" } ]", StringComparison.Ordinal);
        var ex = Assert.Throws<InvalidDataException>(() => RuntimeModelJson.Deserialize(json));
        Assert.StartsWith("per_output_token_seconds:", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void KeptModel_RoundTripsThroughJson_WithItsWarnings()
    {
        var model = RuntimeModel.Fit(Shrinking(), new RuntimeFitOptions { KeepNonPhysicalFit = true });

        var back = RuntimeModelJson.Deserialize(model.ToJson());

        Assert.Equal(model.Warnings, back.Warnings);
        Assert.Equal(model.PerOutputTokenSeconds, back.PerOutputTokenSeconds);
    }
}
