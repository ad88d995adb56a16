namespace LlmEff.Core.Tests.Runtime;

public class PromptEncodingShapeTests
{
    private static List<ProfilingSample> WithPe(params (int P, double Pe)[] knots)
        => knots.SelectMany(k => new[] { new ProfilingSample(k.P, 1, k.Pe), new ProfilingSample(k.P, 11, k.Pe + 0.5) }).ToList();

    [Fact]
    public void Monotone_PoolsAdjacentViolators()
    {
        // PE dips at 512 (noise): isotonic regression pools 256 and 512 into their mean, 0.25.
        var samples = WithPe((1, 0.1), (256, 0.3), (512, 0.2), (1024, 0.5));
        // Two points per prompt size: pooling the dip costs R² (0.985), which is the point here, so the threshold is relaxed.
        var plain = RuntimeModel.Fit(samples);
        var monotone = RuntimeModel.Fit(samples, new RuntimeFitOptions { PromptEncodingShape = PromptEncodingShape.Monotone, RSquaredWarningThreshold = 0.95 });

        Assert.False(plain.PromptEncoding.IsMonotoneNonDecreasing);
        Assert.True(monotone.PromptEncoding.IsMonotoneNonDecreasing);
        Assert.Equal(0.25, monotone.PromptEncodingSeconds(256), 1e-12);
        Assert.Equal(0.25, monotone.PromptEncodingSeconds(512), 1e-12);
        Assert.Equal(0.1, monotone.PromptEncodingSeconds(1), 1e-12);
        Assert.Equal(0.5, monotone.PromptEncodingSeconds(1024), 1e-12);
    }

    [Fact]
    public void MaximumKnots_KeepsEndPointsAndTheBend()
    {
        // Flat until 128, then linear: the bend at 128 is the knot to keep.
        var knots = new[] { 1, 32, 64, 128, 256, 512, 1024, 2048 }.Select(p => (p, 0.02 + (0.0001 * Math.Max(0, p - 128)))).ToArray();
        var model = RuntimeModel.Fit(WithPe(knots), new RuntimeFitOptions { MaximumKnots = 3 });

        Assert.Equal([1.0, 128.0, 2048.0], model.PromptEncoding.Knots.Select(k => k.X));
        Assert.Equal(0.02 + (0.0001 * 872), model.PromptEncodingSeconds(1000), 1e-12);
    }

    [Fact]
    public void MaximumKnots_CountsTheZeroPromptAnchor()
    {
        // The anchor PE(0) = 0 is a knot of the model: added after the selection, it once made MaximumKnots = 2 give 3 knots.
        var samples = SyntheticSamples.Generate(1, _ => 0, 1, prompts: [0, 1, 256, 512, 1024, 1536], overhead: 0.05);

        var model = RuntimeModel.Fit(samples, new RuntimeFitOptions { Overhead = OverheadMode.ZeroPromptAnchor, MaximumKnots = 2, KeepNonPhysicalFit = true });

        Assert.Equal([0.0, 1536.0], model.PromptEncoding.Knots.Select(k => k.X));
        Assert.Equal(0.0, model.PromptEncodingSeconds(0));
        Assert.Equal(0.05, model.OverheadSeconds, 1e-9);
    }

    [Fact]
    public void MaximumKnots_BelowTwo_Throws()
        => Assert.Throws<ArgumentOutOfRangeException>(() => RuntimeModel.Fit(WithPe((1, 0.1), (2, 0.2)), new RuntimeFitOptions { MaximumKnots = 1 }));
}
