using static LlmEff.Core.Tests.Runtime.SyntheticSamples;

namespace LlmEff.Core.Tests.Runtime;

public class ContextHingeTests
{
    // Ground truth flat, then linear: generating at context i costs G0 + G1·max(0, i − Knee) (A100 GPT-NeoX-20B's shape).
    private const double G0 = 0.0325;
    private const double G1 = 2.3e-6;
    private const int Knee = 512;

    private static readonly int[] Prompts = [1, 256, 512, 768, 1024, 1536];

    private static double Generation(int p, int o) => Enumerable.Range(p, o - 1).Sum(i => G0 + (G1 * Math.Max(0, i - Knee)));

    private static List<ProfilingSample> HingeSamples()
        => (from p in Prompts from o in Outputs select new ProfilingSample(p, o, TruePe(p) + Generation(p, o))).ToList();

    [Fact]
    public void ContextHinge_NoiseFree_RecoversKneeG0G1AndPe()
    {
        var model = RuntimeModel.Fit(HingeSamples(), new RuntimeFitOptions { Decode = DecodeModel.ContextHinge });

        Assert.Equal(DecodeModel.ContextHinge, model.Decode);
        Assert.Equal(Knee, model.ContextKneeTokens);
        Assert.Equal(G0, model.PerOutputTokenSeconds, 1e-10);
        Assert.Equal(G1, model.PerOutputTokenContextSeconds, 1e-13);
        foreach (var p in Prompts)
        {
            Assert.Equal(TruePe(p), model.PromptEncodingSeconds(p), 1e-9);
        }

        // Across the knee, below it and above it: the closed-form sum of the steps' times.
        Assert.Equal(TruePe(400) + Generation(400, 300), model.Predict(400, 300), 1e-9);
        Assert.Equal(TruePe(100) + Generation(100, 50), model.Predict(100, 50), 1e-9);
        Assert.Equal(TruePe(1200) + Generation(1200, 64), model.Predict(1200, 64), 1e-9);
        Assert.Equal(Generation(400, 300), model.Explain(400, 300).GenerationSeconds, 1e-9);
        Assert.Equal(1.0, model.RSquared, 1e-12);
    }

    [Fact]
    public void ContextLinear_MissesTheKnee_WhereTheHingeDoesNot()
    {
        var linear = RuntimeModel.Fit(HingeSamples(), new RuntimeFitOptions { Decode = DecodeModel.ContextLinear });
        var hinge = RuntimeModel.Fit(HingeSamples(), new RuntimeFitOptions { Decode = DecodeModel.ContextHinge });
        double linearWorst = 0, hingeWorst = 0;
        foreach (var p in new[] { 1, 128, 256, 384, 640, 1280 })
        {
            foreach (var o in new[] { 64, 256, 1024 })
            {
                var expected = TruePe(p) + Generation(p, o);
                linearWorst = Math.Max(linearWorst, Math.Abs(linear.Predict(p, o) - expected) / expected);
                hingeWorst = Math.Max(hingeWorst, Math.Abs(hinge.Predict(p, o) - expected) / expected);
            }
        }

        Assert.True(linearWorst > 2e-3, $"linear worst error {linearWorst}");
        Assert.True(hingeWorst < 1e-9, $"hinge worst error {hingeWorst}");
    }

    [Fact]
    public void Auto_PicksTheHingeOnFlatThenRisingData()
    {
        var model = RuntimeModel.Fit(HingeSamples(), new RuntimeFitOptions { Decode = DecodeModel.Auto });

        Assert.Equal(DecodeModel.ContextHinge, model.Decode);
        Assert.Equal(Knee, model.ContextKneeTokens);
    }

    [Fact]
    public void Auto_KeepsConstantOnFlatData()
    {
        // Constant g with 0.2 ms of noise at six prompt sizes: the hinge is offered and must not be kept.
        var samples = Generate(1, r => 0.0002 * r.NextDouble(), 2, Prompts);
        var model = RuntimeModel.Fit(samples, new RuntimeFitOptions { Decode = DecodeModel.Auto });

        Assert.Equal(DecodeModel.Constant, model.Decode);
        Assert.Equal(0, model.ContextKneeTokens);
        Assert.Equal(0.0, model.PerOutputTokenContextSeconds);
    }

    [Fact]
    public void CrossValidate_KeepsTheKneeFittedOnAllSamples()
    {
        // Exact hinge data: with the knee held, every fold predicts its left-out points exactly.
        var report = RuntimeModel.CrossValidate(HingeSamples(), new RuntimeFitOptions { Decode = DecodeModel.ContextHinge });
        Assert.True(report.LeaveOneOutputLengthOut!.Max < 1e-9, $"max {report.LeaveOneOutputLengthOut.Max}");
        Assert.True(report.LeaveOneConfigurationOut!.Max < 1e-9, $"max {report.LeaveOneConfigurationOut.Max}");
    }

    [Fact]
    public void Json_RoundTripsTheKnee()
    {
        var model = RuntimeModel.Fit(HingeSamples(), new RuntimeFitOptions { Decode = DecodeModel.ContextHinge });
        var json = model.ToJson();
        Assert.Contains("\"context_knee_tokens\": 512", json, StringComparison.Ordinal);

        var back = RuntimeModel.FromJson(json);
        Assert.Equal(DecodeModel.ContextHinge, back.Decode);
        Assert.Equal(model.ContextKneeTokens, back.ContextKneeTokens);
        Assert.Equal(model.PerOutputTokenContextSeconds, back.PerOutputTokenContextSeconds);
        for (var p = 0; p < 2000; p += 37)
        {
            Assert.Equal(model.Predict(p, 200), back.Predict(p, 200));
        }

        // Models without a knee write no field and schema version 1, as before the hinge, so earlier readers still read
        // them; a knee needs version 2, which earlier readers refuse instead of dropping the knee.
        var linear = RuntimeModel.Fit(HingeSamples(), new RuntimeFitOptions { Decode = DecodeModel.ContextLinear });
        Assert.DoesNotContain("context_knee_tokens", linear.ToJson(), StringComparison.Ordinal);
        Assert.Contains("\"schema_version\": 1,", linear.ToJson(), StringComparison.Ordinal);
        Assert.Contains("\"schema_version\": 2,", json, StringComparison.Ordinal);
        var mislabelled = json.Replace("\"schema_version\": 2,", "\"schema_version\": 1,", StringComparison.Ordinal);
        var ex = Assert.Throws<InvalidDataException>(() => RuntimeModel.FromJson(mislabelled));
        Assert.Contains("belongs to schema_version 2", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Json_RejectsANegativeKnee()
    {
        var json = RuntimeModel.Create(new PiecewiseLinearFunction([new(1, 0.02), new(2048, 0.4)]), 0.03, 2e-6, 512, 0).ToJson()
            .Replace("\"context_knee_tokens\": 512", "\"context_knee_tokens\": -5", StringComparison.Ordinal);
        var ex = Assert.Throws<InvalidDataException>(() => RuntimeModel.FromJson(json));
        Assert.Contains("context_knee_tokens", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_RejectsANegativeKnee()
        => Assert.Throws<ArgumentOutOfRangeException>(() => RuntimeModel.Create(new PiecewiseLinearFunction([new(1, 0.02), new(2048, 0.4)]), 0.03, 2e-6, -1, 0));

    [Fact]
    public void PredictBatch_WithKnee_EqualsPredictBitForBit()
    {
        var model = RuntimeModel.Create(new PiecewiseLinearFunction([new(1, 0.02), new(512, 0.1), new(2048, 0.4)]), 0.03, 1.7e-6, 640, 0.01);
        DecodeModelTests.AssertPredictBatchEqualsPredict(model);

        // And the sum it stands for, at a query that starts below the knee and ends above it.
        Assert.Equal(model.PromptEncodingSeconds(600) + 0.01 + Enumerable.Range(600, 99).Sum(i => 0.03 + (1.7e-6 * Math.Max(0, i - 640))), model.Predict(600, 100), 1e-12);
    }

    [Fact]
    public void ContextHinge_WithNoRisingKnee_FallsBackToConstant_NotToAFallingSlope()
    {
        // A step time that falls with the context (sweep noise on a grid with no context growth): no knee has a rising
        // slope, and the straight context line falls too, which a step reading a growing KV cache cannot do.
        var falling = Prompts.SelectMany(p => Outputs.Select(o => new ProfilingSample(p, o, TruePe(p) + Enumerable.Range(p, o - 1).Sum(i => G0 - (1e-7 * i))))).ToList();

        var model = RuntimeModel.Fit(falling, new RuntimeFitOptions { Decode = DecodeModel.ContextHinge });

        Assert.Equal(DecodeModel.Constant, model.Decode);
        Assert.Equal(0, model.PerOutputTokenContextSeconds);
    }
}
