namespace LlmEff.Core.Tests.Runtime;

public class RobustLossTests
{
    private static readonly int[] Outputs = [1, 2, 4, 8, 16, 32, 64];

    private static double Truth(int p, int o) => 0.02 + (0.0001 * p) + (0.02 * (o - 1));

    private static List<ProfilingSample> Sweeps(params int[] prompts)
        => [.. from p in prompts from o in Outputs select new ProfilingSample(p, o, Truth(p, o))];

    [Fact]
    public void OneOutlierInASweep_MovesTheLeastSquaresKnot_ButNotTheRobustOne()
    {
        var samples = Sweeps(1, 512, 1024);
        var i = samples.FindIndex(s => s.PromptTokens == 512 && s.OutputTokens == 8);
        samples[i] = samples[i] with { RuntimeSeconds = 1.3 * samples[i].RuntimeSeconds };
        var options = new RuntimeFitOptions { KeepNonPhysicalFit = true };

        var plain = RuntimeModel.Fit(samples, options);
        var robust = RuntimeModel.Fit(samples, options with { RobustLoss = true });
        var pe = Truth(512, 1);

        Assert.True(Math.Abs(plain.PromptEncoding.Evaluate(512) - pe) / pe > 0.05, $"least squares knot {plain.PromptEncoding.Evaluate(512)}");
        Assert.True(Math.Abs(robust.PromptEncoding.Evaluate(512) - pe) / pe < 0.01, $"robust knot {robust.PromptEncoding.Evaluate(512)}");
        Assert.Equal(0.02, robust.PerOutputTokenSeconds, 0.0002);
    }

    [Fact]
    public void WithoutOutliers_TheRobustFitIsTheLeastSquaresFit()
    {
        var samples = Sweeps(1, 512, 1024);
        var plain = RuntimeModel.Fit(samples);
        var robust = RuntimeModel.Fit(samples, new RuntimeFitOptions { RobustLoss = true });
        Assert.Equal(plain.PerOutputTokenSeconds, robust.PerOutputTokenSeconds, 12);
        Assert.Equal(plain.PromptEncoding.Evaluate(512), robust.PromptEncoding.Evaluate(512), 12);
    }

    [Fact]
    public void AConfirmedKnot_PoolsBothShortQueries()
    {
        // p = 256 measured at o = 1 (3% high) and o = 2 (exact): the robust fit averages the two into PE(256); least squares
        // fits a line through both and keeps the high one.
        var samples = Sweeps(1, 1024);
        samples.Add(new ProfilingSample(256, 1, 1.03 * Truth(256, 1)));
        samples.Add(new ProfilingSample(256, 2, Truth(256, 2)));
        var options = new RuntimeFitOptions { AllowSingleOutputLength = true, KeepNonPhysicalFit = true };

        var plainError = (RuntimeModel.Fit(samples, options).PromptEncoding.Evaluate(256) / Truth(256, 1)) - 1;
        var robustError = (RuntimeModel.Fit(samples, options with { RobustLoss = true }).PromptEncoding.Evaluate(256) / Truth(256, 1)) - 1;
        Assert.Equal(0.03, plainError, 1e-9);
        Assert.Equal(0.015, robustError, 1e-9);
    }
}
