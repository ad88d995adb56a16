using static LlmEff.Core.Tests.Runtime.SyntheticSamples;

namespace LlmEff.Core.Tests.Runtime;

public class DecodeModelTests
{
    // Ground truth with context growth: generating at context i costs G0 + G1·i (Appendix A).
    private const double G0 = 0.030;
    private const double G1 = 2e-6;

    private static List<ProfilingSample> ContextSamples(Func<Random, double>? noise = null, int seed = 1)
    {
        var rng = new Random(seed);
        return (from p in PaperPrompts
                from o in Outputs
                let gen = Enumerable.Range(p, o - 1).Sum(i => G0 + (G1 * i))
                select new ProfilingSample(p, o, TruePe(p) + gen + (noise?.Invoke(rng) ?? 0))).ToList();
    }

    [Fact]
    public void ContextLinear_NoiseFree_RecoversG0G1AndPeExactly()
    {
        var model = RuntimeModel.Fit(ContextSamples(), new RuntimeFitOptions { Decode = DecodeModel.ContextLinear });

        Assert.Equal(DecodeModel.ContextLinear, model.Decode);
        Assert.Equal(G0, model.PerOutputTokenSeconds, 1e-10);
        Assert.Equal(G1, model.PerOutputTokenContextSeconds, 1e-13);
        foreach (var p in PaperPrompts)
        {
            Assert.Equal(TruePe(p), model.PromptEncodingSeconds(p), 1e-9);
        }

        // Predict keeps its meaning: the sum over generated contexts, in closed form.
        var expected = TruePe(700) + Enumerable.Range(700, 99).Sum(i => G0 + (G1 * i));
        Assert.Equal(expected, model.Predict(700, 100), 1e-9);
        Assert.Equal(1.0, model.RSquared, 1e-12);
    }

    [Fact]
    public void ContextLinear_OnConstantData_ReducesToThePapersModel()
    {
        var samples = Generate(1, _ => 0, 1);
        var paper = RuntimeModel.Fit(samples);
        var context = RuntimeModel.Fit(samples, new RuntimeFitOptions { Decode = DecodeModel.ContextLinear });

        Assert.Equal(0.0, context.PerOutputTokenContextSeconds, 1e-14);
        Assert.Equal(paper.PerOutputTokenSeconds, context.PerOutputTokenSeconds, 1e-12);
        Assert.Equal(paper.Predict(900, 33), context.Predict(900, 33), 1e-12);
    }

    [Fact]
    public void Auto_PicksContextLinearWhenContextMatters_AndConstantWhenNot()
    {
        // Noise of 0.2 ms; the context term adds up to 2e-6 * 1600 * 63 ≈ 0.2 s at p = 1536, o = 64.
        var withContext = RuntimeModel.Fit(ContextSamples(r => 0.0002 * r.NextDouble()), new RuntimeFitOptions { Decode = DecodeModel.Auto });
        Assert.Equal(DecodeModel.ContextLinear, withContext.Decode);

        var constant = RuntimeModel.Fit(Generate(1, r => 0.0002 * r.NextDouble(), 2), new RuntimeFitOptions { Decode = DecodeModel.Auto });
        Assert.True(Math.Abs(constant.PerOutputTokenContextSeconds) < 1e-8, $"g1 = {constant.PerOutputTokenContextSeconds}");
    }

    [Fact]
    public void Auto_NeverKeepsAContextSlopeThatFallsWithContext()
    {
        // Constant g, with the sweeps at large prompt sizes measured a little fast: ContextLinear alone reads that as g1 < 0.
        var samples = Generate(1, _ => 0, 1).Select(s => s with { RuntimeSeconds = s.RuntimeSeconds * (1 - (0.01 * s.PromptTokens / 1536.0 * (s.OutputTokens - 1) / 63.0)) }).ToList();
        var context = RuntimeModel.Fit(samples, new RuntimeFitOptions { Decode = DecodeModel.ContextLinear });
        Assert.True(context.PerOutputTokenContextSeconds < 0, $"g1 = {context.PerOutputTokenContextSeconds}");

        var auto = RuntimeModel.Fit(samples, new RuntimeFitOptions { Decode = DecodeModel.Auto });
        Assert.Equal(DecodeModel.Constant, auto.Decode);
        Assert.Equal(0.0, auto.PerOutputTokenContextSeconds);
    }

    [Fact]
    public void ContextLinear_NeedsSweepsAtTwoPromptSizes()
    {
        var samples = new List<ProfilingSample> { new(1, 1, 0.1), new(1, 8, 0.4), new(512, 1, 0.3) };
        var ex = Assert.Throws<ArgumentException>(() => RuntimeModel.Fit(samples, new RuntimeFitOptions { Decode = DecodeModel.ContextLinear, AllowSingleOutputLength = true }));
        Assert.Contains("two or more prompt sizes", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AllowSingleOutputLength_TakesPeFromTheDecodeModel()
    {
        // Sweeps at p = 1 and 1536; the others measured at o = 1 only: PE(p) is then measured directly.
        var samples = Generate(1, _ => 0, 1).Where(s => s.PromptTokens is 1 or 1536 || s.OutputTokens == 1).ToList();
        Assert.Throws<ArgumentException>(() => RuntimeModel.Fit(samples));

        var model = RuntimeModel.Fit(samples, new RuntimeFitOptions { AllowSingleOutputLength = true });
        Assert.Equal(TrueG, model.PerOutputTokenSeconds, 1e-12);
        Assert.Equal(TruePe(512), model.PromptEncodingSeconds(512), 1e-12);
        Assert.Equal(1, model.PromptSizeFits.Single(f => f.PromptTokens == 512).DistinctOutputLengths);
    }

    [Fact]
    public void PredictBatch_WithContextTerm_EqualsPredictBitForBit() =>
        AssertPredictBatchEqualsPredict(RuntimeModel.Create(new PiecewiseLinearFunction([new(1, 0.02), new(512, 0.1), new(2048, 0.4)]), 0.03, 1.7e-6, 0.01, PromptEncodingMode.Interpolate));

    /// <summary>The batch path (AVX where the CPU has it) against <see cref="RuntimeModel.Predict"/> at 1,001 random queries.</summary>
    internal static void AssertPredictBatchEqualsPredict(RuntimeModel model)
    {
        var rng = new Random(9);
        var p = Enumerable.Range(0, 1001).Select(_ => rng.Next(0, 4000)).ToArray();
        var o = Enumerable.Range(0, 1001).Select(_ => rng.Next(1, 600)).ToArray();
        var batch = model.PredictBatch(p, o);
        for (var i = 0; i < p.Length; i++)
        {
            Assert.Equal(model.Predict(p[i], o[i]), batch[i]);
        }
    }
}
