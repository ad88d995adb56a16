using static LlmEff.Core.Tests.Runtime.SyntheticSamples;

namespace LlmEff.Core.Tests.Runtime;

public class MeasurementResolutionTests
{
    // Seeded noise of about 0.3 ms, then the runtimes either kept as they are or rounded to the millisecond as the Megatron logs are.
    private static List<ProfilingSample> Noisy(bool roundToMillisecond)
        => Generate(1, r => 0.0003 * (r.NextDouble() - 0.5), 11, prompts: [1, 128, 256, 512, 768, 1024, 1536])
            .Select(s => roundToMillisecond ? s with { RuntimeSeconds = Math.Round(s.RuntimeSeconds, 3) } : s)
            .ToList();

    [Fact]
    public void DetectStepSeconds_FindsTheMillisecondOfRoundedLogs()
    {
        Assert.Equal(0.001, MeasurementResolution.DetectStepSeconds(Noisy(true).Select(s => s.RuntimeSeconds)));
        Assert.Equal(0.0, MeasurementResolution.DetectStepSeconds(Noisy(false).Select(s => s.RuntimeSeconds)));
    }

    [Fact]
    public void DetectStepSeconds_NeedsEnoughDistinctValuesAndAStepWellBelowTheRuntimes()
    {
        Assert.Equal(0.0, MeasurementResolution.DetectStepSeconds([0.035, 0.067, 0.132, 0.035, 0.067]));
        // Whole tenths of a second of runtimes from 0.2 s: a step of 0.1 s is over a tenth of the smallest, so not a clock's.
        Assert.Equal(0.01, MeasurementResolution.DetectStepSeconds([0.2, 0.3, 0.5, 0.7, 1.1, 1.3, 1.7, 1.9, 2.3]));
    }

    [Fact]
    public void EstimateHeldOutError_AddsTheRoundingOfRoundedRuntimes()
    {
        var rounded = Noisy(true);
        var model = RuntimeModel.Fit(rounded);
        var report = RuntimeModel.CrossValidate(rounded);
        // Short configurations of profiled prompt sizes: the configuration folds predict queries up to 64 tokens long.
        (int, int)[] unmeasured = [(1, 3), (128, 3), (256, 3), (512, 3)];

        Assert.Equal(0.001, report.MeasurementResolutionSeconds);
        var folds = report.EstimateHeldOutError(0)!;
        var withRounding = report.EstimateHeldOutError(model, unmeasured)!;
        // Queries of 90-240 ms rounded twice to the millisecond deviate by a few tenths of a percent: more than the folds' error.
        Assert.True(withRounding.P90 > folds.P90 + 0.001, $"with rounding {withRounding}, folds {folds}");
        Assert.Equal(withRounding, report.EstimateHeldOutError(model, unmeasured));
    }

    [Fact]
    public void EstimateHeldOutError_WithoutADetectedStep_IsTheFoldsEstimate_WhenTheFoldsPredictQueriesOfOneLength()
    {
        // Anchors at o = 1 and sweeps at 32 and 64 only: the configuration folds predict runtimes within 2× of each other.
        var samples = Noisy(false).Where(s => s.OutputTokens is 1 or 32 or 64).ToList();
        var model = RuntimeModel.Fit(samples);
        var report = RuntimeModel.CrossValidate(samples);
        (int, int)[] unmeasured = [(64, 2), (128, 3), (1, 3)];

        Assert.Equal(0.0, report.MeasurementResolutionSeconds);
        Assert.Equal(report.EstimateHeldOutError(1.0 / 3), report.EstimateHeldOutError(model, unmeasured));
        Assert.Equal("unmeasured", Assert.Throws<ArgumentException>(() => report.EstimateHeldOutError(model, [])).ParamName);
    }

    [Fact]
    public void EstimateHeldOutError_WhenTheFoldsPredictShortAndLongQueries_WeighsTheirAbsoluteScatterAtEachRuntime()
    {
        // Folds from 2 to 64 output tokens (runtimes 40 ms to 1.3 s) with 0.15 ms of absolute scatter: the estimate at short
        // unmeasured queries is larger than at long ones, where the relative error of the same scatter is small.
        var samples = Noisy(false);
        var model = RuntimeModel.Fit(samples);
        var report = RuntimeModel.CrossValidate(samples);

        var atShort = report.EstimateHeldOutError(model, [(64, 2), (128, 3), (1, 3)])!;
        var atLong = report.EstimateHeldOutError(model, [(64, 60), (128, 50), (1, 40)])!;
        Assert.True(atShort.P90 > 2 * atLong.P90, $"short {atShort}, long {atLong}");
        Assert.Equal(atShort, report.EstimateHeldOutError(model, [(64, 2), (128, 3), (1, 3)]));
    }
}
