using static LlmEff.Core.Tests.Runtime.SyntheticSamples;

namespace LlmEff.Core.Tests.Runtime;

public class TrialNoiseTests
{
    private static double Gaussian(Random r) => Math.Sqrt(-2 * Math.Log(1 - r.NextDouble())) * Math.Cos(2 * Math.PI * r.NextDouble());

    [Fact]
    public void CrossValidate_ReadsTheNoiseOfRepeatedTrials()
    {
        // Four trials of every configuration with 2 ms of Gaussian noise: the report says so; single trials show none.
        var repeated = Generate(4, r => 0.002 * Gaussian(r), 3);
        var report = RuntimeModel.CrossValidate(repeated, new RuntimeFitOptions { Aggregation = TrialAggregation.Mean });
        Assert.Equal(4, report.TrialsPerConfiguration);
        Assert.Equal(repeated.Select(s => (s.PromptTokens, s.OutputTokens)).Distinct().Count(), report.RepeatedConfigurations);
        Assert.InRange(report.TrialNoiseSeconds, 0.0015, 0.0025);

        var single = RuntimeModel.CrossValidate(repeated.Where(s => s.Trial == 0).ToList());
        Assert.Equal(0.0, single.TrialNoiseSeconds);
        Assert.Equal(1, single.TrialsPerConfiguration);
        Assert.Equal(0, single.RepeatedConfigurations);

        // Two configurations measured twice: read from those two, while the typical configuration stays single-shot.
        var two = repeated.Where(s => s.Trial == 0 || (s.Trial == 1 && s.OutputTokens == repeated.Min(x => x.OutputTokens) && s.PromptTokens <= repeated.Select(x => x.PromptTokens).Distinct().Order().ElementAt(1))).ToList();
        var fromTwo = RuntimeModel.CrossValidate(two);
        Assert.Equal(2, fromTwo.RepeatedConfigurations);
        Assert.Equal(1, fromTwo.TrialsPerConfiguration);
        Assert.True(fromTwo.TrialNoiseSeconds > 0, $"noise {fromTwo.TrialNoiseSeconds}");
    }

    [Fact]
    public void CrossValidate_KeepsTheAbsolutePartOfANoiseThatGrowsWithTheRuntime()
    {
        // Noise of 1 ms plus 0.5 % of the runtime (queries of about 0.02-2 s): the relative part is in the folds' relative errors
        // already, so only the 1 ms is kept.
        var rng = new Random(5);
        var samples = Generate(1, _ => 0, 1)
            .SelectMany(s => Enumerable.Range(0, 6).Select(t => s with { Trial = t, RuntimeSeconds = s.RuntimeSeconds + (Math.Sqrt((0.001 * 0.001) + Math.Pow(0.005 * s.RuntimeSeconds, 2)) * Gaussian(rng)) }))
            .ToList();
        var report = RuntimeModel.CrossValidate(samples, new RuntimeFitOptions { Aggregation = TrialAggregation.Mean });
        Assert.InRange(report.TrialNoiseSeconds, 0.0005, 0.0016);
    }

    [Fact]
    public void EstimateHeldOutError_AddsTheTrialsNoiseForShortHeldOutQueries()
    {
        // One sweep per prompt size and every anchor measured twice with 3 ms of noise; the held-out queries are short.
        var rng = new Random(11);
        var samples = Generate(1, _ => 0, 1, prompts: [1, 128, 256, 512, 768, 1024, 1536])
            .Where(s => s.OutputTokens is 1 or 64)
            .SelectMany(s => Enumerable.Range(0, s.OutputTokens == 1 ? 2 : 1).Select(t => s with { Trial = t, RuntimeSeconds = s.RuntimeSeconds + (0.003 * Gaussian(rng)) }))
            .ToList();
        var model = RuntimeModel.Fit(samples);
        var report = RuntimeModel.CrossValidate(samples);
        (int, int)[] unmeasured = [(1, 2), (128, 2), (256, 3), (512, 2)];

        Assert.Equal(1, report.TrialsPerConfiguration);
        Assert.True(report.TrialNoiseSeconds > 0.001, $"noise {report.TrialNoiseSeconds}");
        var withNoise = report.EstimateHeldOutError(model, unmeasured)!;
        var without = (report with { TrialNoiseSeconds = 0 }).EstimateHeldOutError(model, unmeasured)!;
        Assert.True(withNoise.P90 > 2 * without.P90, $"with the trials' noise {withNoise}, without {without}");
    }

    [Theory]
    [InlineData(TrialAggregation.Mean, 4, 0.25)]
    [InlineData(TrialAggregation.Minimum, 1, 1.0)]
    [InlineData(TrialAggregation.Minimum, 3, 0.5595)]
    [InlineData(TrialAggregation.Minimum, 50, 0.3443)]
    [InlineData(TrialAggregation.Median, 2, 0.5)]
    [InlineData(TrialAggregation.All, 5, 1.0)]
    public void AggregateFactor_IsWhatAggregatingLeavesOfOneTrialsVariance(TrialAggregation aggregation, int trials, double expected)
        => Assert.Equal(expected, TrialNoise.AggregateFactor(aggregation, trials), 4);
}
