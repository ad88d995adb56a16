using static LlmEff.Core.Tests.Runtime.SyntheticSamples;

namespace LlmEff.Core.Tests.Runtime;

public class FitAssessmentTests
{
    [Fact]
    public void CrossValidation_NoiseFreeLinearTruth_HasOnlyInterpolationError()
    {
        // The true PE has one kink at 256, which is a knot: leaving 256 out interpolates across the kink, so
        // leave-one-prompt-size-out sees error there; leaving output lengths or configurations out sees none.
        var report = RuntimeModel.CrossValidate(Generate(1, _ => 0, 1));

        Assert.NotNull(report.LeaveOnePromptSizeOut);
        Assert.True(report.LeaveOnePromptSizeOut!.Max > 0.001);
        Assert.Equal(0.0, report.LeaveOneOutputLengthOut!.Max, 1e-9);
        Assert.Equal(0.0, report.LeaveOneConfigurationOut!.Max, 1e-9);
        Assert.Equal(3 * Outputs.Length, report.LeaveOnePromptSizeOut.Count); // interior prompt sizes only
        Assert.Equal(0.0, report.EstimateHeldOutError(0)!.P90, 1e-9);
        Assert.Equal(report.LeaveOnePromptSizeOut.P90, report.EstimateHeldOutError(1)!.P90, 1e-12);
    }

    [Fact]
    public void CrossValidation_TooFewPromptSizes_ReportsNull()
    {
        var report = RuntimeModel.CrossValidate(Generate(1, _ => 0, 1, prompts: [1, 512]));
        Assert.Null(report.LeaveOnePromptSizeOut);
        Assert.NotNull(report.LeaveOneOutputLengthOut);
        Assert.Null(report.EstimateHeldOutError(0.5));
    }

    [Fact]
    public void Bootstrap_IntervalsCoverTruthAndAreDeterministic()
    {
        var samples = Generate(1, r => 0.003 * (r.NextDouble() - 0.5), 4);
        var a = RuntimeModel.Bootstrap(samples, resamples: 300, seed: 7);
        var b = RuntimeModel.Bootstrap(samples, resamples: 300, seed: 7);

        Assert.Equal(a.PerOutputTokenSeconds, b.PerOutputTokenSeconds);
        Assert.InRange(TrueG, a.PerOutputTokenSeconds.Lower, a.PerOutputTokenSeconds.Upper);
        Assert.True(a.PerOutputTokenSeconds.Upper > a.PerOutputTokenSeconds.Lower);
        var pe = a.PromptEncoding.Single(k => k.Key == 1024).Value;
        Assert.InRange(TruePe(1024), pe.Lower - 0.002, pe.Upper + 0.002);
        var prediction = a.PredictionInterval(700, 20);
        Assert.InRange(prediction.Estimate, prediction.Lower, prediction.Upper);
        Assert.True(prediction.RelativeHalfWidth < 0.05);
    }

    [Fact]
    public void Bootstrap_InvalidArguments_Throw()
    {
        var samples = Generate(1, _ => 0, 1);
        Assert.Throws<ArgumentOutOfRangeException>(() => RuntimeModel.Bootstrap(samples, resamples: 5));
        Assert.Throws<ArgumentOutOfRangeException>(() => RuntimeModel.Bootstrap(samples, level: 1.5));
    }

    [Fact]
    public void FitAndAssess_ReturnsModelWithItsOwnErrorEstimates()
    {
        var assessment = RuntimeModel.FitAndAssess(Generate(2, r => 0.001 * r.NextDouble(), 3), resamples: 50);
        Assert.Equal(RuntimeModel.Fit(Generate(2, r => 0.001 * r.NextDouble(), 3)).PerOutputTokenSeconds, assessment.Model.PerOutputTokenSeconds, 1e-15);
        Assert.NotNull(assessment.CrossValidation.Combined);
        Assert.Equal(50, assessment.Bootstrap.Resamples);
    }

    [Fact]
    public void AutoSelection_ObservesTheCancellationToken()
    {
        // Choosing the decode model refits once per fold and per knee; a cancelled run stops there instead of finishing
        // the choice first (once seconds to tens of seconds on large grids).
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        var samples = Generate(1, _ => 0, 1);
        var auto = new RuntimeFitOptions { Decode = DecodeModel.Auto };

        Assert.ThrowsAny<OperationCanceledException>(() => RuntimeModelFitter.Fit(samples, auto, null, cancelled.Token));
        Assert.ThrowsAny<OperationCanceledException>(() => RuntimeModelFitter.Fit(samples, auto with { Decode = DecodeModel.ContextHinge }, null, cancelled.Token));
        Assert.ThrowsAny<OperationCanceledException>(() => RuntimeModel.CrossValidate(samples, auto, cancelled.Token));
        Assert.NotNull(RuntimeModelFitter.Fit(samples, auto, null, CancellationToken.None)); // the same fit, not cancelled
    }

    [Fact]
    public void RelativeAndAbsoluteVariance_AreToldApartByTheFoldsRuntimes()
    {
        double[] seconds = [0.05, 0.1, 1.0, 2.0, 3.0, 0.07];
        // 2 ms of absolute scatter: a relative error of 0.002 / t, alternating in sign.
        var absolute = seconds.Select((t, i) => (i % 2 == 0 ? 1 : -1) * 0.002 / t).ToArray();
        var (r2, s2) = CrossValidationReport.FitRelativeAndAbsoluteVariance(absolute, seconds);
        Assert.Equal(0.0, r2, 1e-12);
        Assert.Equal(4e-6, s2, 1e-12);

        // 1 % relative error whatever the runtime: no absolute part.
        var relative = seconds.Select((_, i) => i % 2 == 0 ? 0.01 : -0.01).ToArray();
        (r2, s2) = CrossValidationReport.FitRelativeAndAbsoluteVariance(relative, seconds);
        Assert.Equal(1e-4, r2, 1e-12);
        Assert.Equal(0.0, s2, 1e-12);
    }
}
