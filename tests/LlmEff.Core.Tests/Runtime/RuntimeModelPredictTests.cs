namespace LlmEff.Core.Tests.Runtime;

public class RuntimeModelPredictTests
{
    private static readonly RuntimeModel Model = RuntimeModel.Create(
        [(1, 0.020), (256, 0.051), (512, 0.097), (1024, 0.190), (1536, 0.298)],
        0.038,
        overheadSeconds: 0.011);

    [Fact]
    public void PredictBatch_EqualsPredictBitForBit()
    {
        var rng = new Random(5);
        const int n = 10_003; // not a multiple of the vector width, so the scalar tail runs too
        var prompts = new int[n];
        var outputs = new int[n];
        for (var i = 0; i < n; i++)
        {
            prompts[i] = rng.Next(0, 4096);
            outputs[i] = rng.Next(1, 512);
        }

        var batch = Model.PredictBatch(prompts, outputs);
        for (var i = 0; i < n; i++)
        {
            Assert.Equal(Model.Predict(prompts[i], outputs[i]), batch[i]);
        }
    }

    [Fact]
    public void Predict_IsPeplusGenerationPlusOverhead()
    {
        // Between knots 512 and 1024: PE(768) = 0.097 + 256 * (0.190 - 0.097) / 512.
        var pe768 = 0.097 + (256 * (0.190 - 0.097) / 512);
        Assert.Equal(pe768, Model.PromptEncodingSeconds(768), 1e-15);
        Assert.Equal(pe768 + (31 * 0.038) + 0.011, Model.Predict(768, 32), 1e-15);
        Assert.Equal(0.020 + 0.011, Model.Predict(1, 1), 1e-15);
    }

    [Fact]
    public void Explain_BreaksDownPredictionAndFlagsExtrapolation()
    {
        var inside = Model.Explain(700, 10);
        Assert.False(inside.PromptExtrapolated);
        Assert.Equal(Model.Predict(700, 10), inside.TotalSeconds);
        Assert.Equal(9 * 0.038, inside.GenerationSeconds, 1e-15);
        Assert.Equal(0.011, inside.OverheadSeconds);

        var outside = Model.Explain(2048, 10);
        Assert.True(outside.PromptExtrapolated);
        // Beyond 1536 the last segment's slope continues.
        Assert.Equal(0.298 + (512 * (0.298 - 0.190) / 512), outside.PromptEncodingSeconds, 1e-12);
    }

    [Fact]
    public void PromptEncoding_ExtrapolationBelowFirstKnot_NeverNegative()
    {
        var steep = RuntimeModel.Create([(512, 0.01), (1024, 0.5)], 0.01);
        Assert.True(steep.IsExtrapolated(1));
        Assert.Equal(0.0, steep.PromptEncodingSeconds(1));
        Assert.Equal(0.0, steep.PredictBatch(new int[8], Enumerable.Repeat(1, 8).ToArray()).Max());
    }

    [Fact]
    public void Hinge_AtExtremeSizes_PredictsAsThePredictBatchPathDoes()
    {
        // p + o past int.MaxValue once wrapped in the hinge's context sum of Predict, not in the vectorised batch path.
        var model = RuntimeModel.Create(new PiecewiseLinearFunction([new(1, 0.02), new(1024, 0.08)]), 0.02, 1e-6, 300, 0.0);
        int[] p = [int.MaxValue - 5, 1, 1, 1];
        int[] o = [10, 1, 1, 1];
        Assert.Equal(model.PredictBatch(p, o)[0], model.Predict(p[0], o[0]));
    }
}
