using LlmEff.Core.Evaluation;
using LlmEff.Core.Planning;

namespace LlmEff.Core.Tests.Planning;

public class AdaptiveProfilingPlannerTests
{
    private static readonly int[] Prompts = [1, 64, 128, 256, 384, 512, 768, 1024, 1536, 2048];
    private static readonly int[] Outputs = [1, 8, 32, 64];

    // A staircase PE (jumps every 256 tokens) on top of a linear trend, as GPU tiling produces.
    private static double Truth(int p, int o) => 0.02 + (0.0001 * p) + (0.01 * Math.Ceiling(p / 256.0)) + (0.03 * (o - 1));

    private static ValueTask<ProfilingSample> Measure(ConfigurationQuery q, CancellationToken ct) => ValueTask.FromResult(new ProfilingSample(q.PromptTokens, q.OutputTokens, Truth(q.PromptTokens, q.OutputTokens)));

    [Fact]
    public void Next_StartsWithTheSixSeedQueries()
    {
        var planner = new AdaptiveProfilingPlanner(Prompts, Outputs);
        var measured = new List<ProfilingSample>();
        var seen = new List<ConfigurationQuery>();
        for (var i = 0; i < 6; i++)
        {
            var q = planner.Next(measured)!.Value;
            seen.Add(q);
            measured.Add(new ProfilingSample(q.PromptTokens, q.OutputTokens, Truth(q.PromptTokens, q.OutputTokens)));
        }

        Assert.Equal([new(1, 1), new(2048, 1), new(1, 64), new(2048, 64), new(1024, 1), new(1024, 64)], seen);
    }

    [Fact]
    public async Task RunAsync_IsDeterministicAndRespectsBudget()
    {
        var planner = new AdaptiveProfilingPlanner(Prompts, Outputs);
        var a = await planner.RunAsync(14, Measure, cancellationToken: TestContext.Current.CancellationToken);
        var b = await planner.RunAsync(14, Measure, cancellationToken: TestContext.Current.CancellationToken);

        // 14 queries: every prompt size is anchored by the 13th, so the 14th measures the shortest anchor again.
        Assert.Equal(14, a.Count);
        Assert.Equal(a, b);
        Assert.Equal(13, a.Select(s => (s.PromptTokens, s.OutputTokens)).Distinct().Count());
        Assert.Equal([1], a.GroupBy(s => (s.PromptTokens, s.OutputTokens)).Where(g => g.Count() == 2).Select(g => g.Key.PromptTokens));

        var single = await new AdaptiveProfilingPlanner(Prompts, Outputs) { RepeatedAnchors = 0 }.RunAsync(14, Measure, cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(14, single.Select(s => (s.PromptTokens, s.OutputTokens)).Distinct().Count());
    }

    [Fact]
    public async Task RepeatedAnchors_WaitForEveryPromptSizeAndCountAgainstTheBudget()
    {
        var planner = new AdaptiveProfilingPlanner(Prompts, Outputs) { RepeatedAnchors = 3 };

        // Ten prompt sizes: until each has its anchor no query repeats one (a budget of 12 spends none on repeats).
        var early = await planner.RunAsync(12, Measure, cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(12, early.Select(s => (s.PromptTokens, s.OutputTokens)).Distinct().Count());
        Assert.Contains(early, s => s.OutputTokens == 1 && s.PromptTokens == 768);

        var queries = new List<ConfigurationQuery>();
        var full = await planner.RunAsync(20, (q, ct) => { queries.Add(q); return Measure(q, ct); }, cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(20, full.Count);
        var repeated = full.GroupBy(s => (s.PromptTokens, s.OutputTokens)).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        Assert.Equal([(1, 1), (64, 1), (128, 1)], repeated.Order());

        // The repeats come right after the last anchor, shortest first, and a resumed run counts them.
        var allAnchored = Enumerable.Range(0, queries.Count).First(i => Prompts.All(p => queries.Take(i + 1).Contains(new ConfigurationQuery(p, 1))));
        Assert.Equal([new(1, 1), new(64, 1), new(128, 1)], queries.Skip(allAnchored + 1).Take(3));
        var calls = 0;
        var resumed = await planner.RunAsync(20, (q, ct) => { calls++; return Measure(q, ct); }, alreadyMeasured: full.Take(15), cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(5, calls);
        Assert.Equal(full, resumed);
    }

    [Fact]
    public async Task TargetP90_StopsOnceTheNoiseIsReadAndTheEstimateMeetsIt_AndAResumedRunAsksNothingMore()
    {
        // A repeat answers with 1 ms more than the first trial: the noise is read once an anchor is measured twice.
        var trials = new Dictionary<(int, int), int>();
        ValueTask<ProfilingSample> Noisy(ConfigurationQuery q, CancellationToken ct)
        {
            var k = trials.GetValueOrDefault((q.PromptTokens, q.OutputTokens));
            trials[(q.PromptTokens, q.OutputTokens)] = k + 1;
            return ValueTask.FromResult(new ProfilingSample(q.PromptTokens, q.OutputTokens, Truth(q.PromptTokens, q.OutputTokens) + (0.001 * k)) { Trial = k });
        }

        var loose = new AdaptiveProfilingPlanner(Prompts, Outputs) { TargetP90 = 0.5 };
        var stopped = await loose.RunAsync(30, Noisy, cancellationToken: TestContext.Current.CancellationToken);
        // Every prompt size anchored (10), the seed's three sweeps, then the first repeat: the rule is met right after it.
        Assert.Equal(14, stopped.Count);
        Assert.Single(stopped, s => s.Trial == 1);
        Assert.True(loose.Assess(stopped).MeetsTarget(0.5));

        var calls = 0;
        var resumed = await loose.RunAsync(30, (q, ct) => { calls++; return Noisy(q, ct); }, stopped, cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(0, calls);
        Assert.Equal(stopped.Count, resumed.Count);

        // A target no fit reaches: the whole budget is spent, as without one.
        trials.Clear();
        var tight = await new AdaptiveProfilingPlanner(Prompts, Outputs) { TargetP90 = 1e-9 }.RunAsync(30, Noisy, cancellationToken: TestContext.Current.CancellationToken);
        trials.Clear();
        var without = await new AdaptiveProfilingPlanner(Prompts, Outputs).RunAsync(30, Noisy, cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(without.Select(s => (s.PromptTokens, s.OutputTokens, s.Trial)), tight.Select(s => (s.PromptTokens, s.OutputTokens, s.Trial)));
    }

    [Fact]
    public void ForTrialsPerQuery_RepeatsAnchorsOnlyWhereOneTrialCannotShowTheNoise()
    {
        Assert.Equal(2, AdaptiveProfilingPlanner.ForTrialsPerQuery(Prompts, Outputs, 1).RepeatedAnchors);
        Assert.Equal(0, AdaptiveProfilingPlanner.ForTrialsPerQuery(Prompts, Outputs, 3).RepeatedAnchors);
        Assert.Equal("trialsPerQuery", Assert.Throws<ArgumentOutOfRangeException>(() => AdaptiveProfilingPlanner.ForTrialsPerQuery(Prompts, Outputs, 0)).ParamName);
    }

    [Fact]
    public void MeetsTarget_NeedsTheNoiseRead_AndTargetP90_IsAFraction()
    {
        var samples = Seeds();
        var assessment = new AdaptiveProfilingPlanner(Prompts, Outputs).Assess(samples);
        Assert.Equal(0, assessment.RepeatedConfigurations);
        Assert.False(assessment.MeetsTarget(0.99)); // an estimate that leaves the noise out never stops a run
        Assert.True((assessment with { RepeatedConfigurations = 1 }).MeetsTarget(0.99));
        var planner = new AdaptiveProfilingPlanner(Prompts, Outputs);
        Assert.Null(planner.AssessmentMeetingTarget(samples, 0.99));
        var repeated = samples.Append(samples[0] with { RuntimeSeconds = samples[0].RuntimeSeconds + 0.001, Trial = 1 }).ToList();
        Assert.True(planner.AssessmentMeetingTarget(repeated, 0.99)!.MeetsTarget(0.99));
        Assert.Null(planner.AssessmentMeetingTarget(repeated, 1e-9));
        foreach (var bad in new[] { 0.0, 1.0, -0.1, double.NaN })
        {
            Assert.Equal("TargetP90", Assert.Throws<ArgumentOutOfRangeException>(() => new AdaptiveProfilingPlanner(Prompts, Outputs) { TargetP90 = bad }).ParamName);
        }
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(9)]
    public void RepeatedAnchors_OutOfRangeIsRefused(int count)
        => Assert.Equal("RepeatedAnchors", Assert.Throws<ArgumentOutOfRangeException>(() => new AdaptiveProfilingPlanner(Prompts, Outputs) { RepeatedAnchors = count }).ParamName);

    [Fact]
    public async Task RunAsync_ResumesWithoutRepeatingQueries()
    {
        var planner = new AdaptiveProfilingPlanner(Prompts, Outputs);
        var full = await planner.RunAsync(12, Measure, cancellationToken: TestContext.Current.CancellationToken);
        var calls = 0;
        var resumed = await planner.RunAsync(
            12,
            (q, ct) => { calls++; return Measure(q, ct); },
            alreadyMeasured: full.Take(7),
            cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(5, calls);
        Assert.Equal(full, resumed);
    }

    [Fact]
    public async Task AdaptiveDesign_BeatsInterpolationOnAStaircase()
    {
        var planner = new AdaptiveProfilingPlanner(Prompts, Outputs);
        var design = await planner.RunAsync(16, Measure, cancellationToken: TestContext.Current.CancellationToken);
        var model = RuntimeModel.Fit(design, AdaptiveProfilingPlanner.FitOptions);

        var errors = (from p in Prompts from o in Outputs select Math.Abs((model.Predict(p, o) / Truth(p, o)) - 1)).ToArray();
        Assert.True(errors.Max() < 0.01, $"max error {errors.Max():P2}");
        Assert.Equal(0.03, model.PerOutputTokenSeconds, 1e-9);
    }

    [Fact]
    public async Task RunAsync_CancelsBetweenQueries()
    {
        using var cts = new CancellationTokenSource();
        var planner = new AdaptiveProfilingPlanner(Prompts, Outputs);
        var count = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => planner.RunAsync(
            20,
            (q, ct) => { if (++count == 3) { cts.Cancel(); } return Measure(q, ct); },
            cancellationToken: cts.Token));
        Assert.Equal(3, count);
    }

    private static List<ProfilingSample> Seeds()
        => [.. new (int P, int O)[] { (1, 1), (2048, 1), (1, 64), (2048, 64), (1024, 1), (1024, 64) }.Select(k => new ProfilingSample(k.P, k.O, Truth(k.P, k.O)))];

    [Fact]
    public void Next_ConfirmsALoneKnotThatBreaksTheOrderOfItsNeighbours()
    {
        // PE never falls with the prompt, so a knot at p = 512 below the one at p = 1 is noise: measure it again, shortly.
        var measured = Seeds();
        measured.Add(new ProfilingSample(512, 1, 0.9 * Truth(1, 1)));

        Assert.Equal(new ConfigurationQuery(512, 8), new AdaptiveProfilingPlanner(Prompts, Outputs) { ConfirmShare = 0.2 }.Next(measured));
        Assert.Equal(1, new AdaptiveProfilingPlanner(Prompts, Outputs).Next(measured)!.Value.OutputTokens);
    }

    [Fact]
    public void Next_DoesNotConfirmARealStep()
    {
        var measured = Seeds();
        measured.Add(new ProfilingSample(512, 1, Truth(512, 1)));
        Assert.Equal(1, new AdaptiveProfilingPlanner(Prompts, Outputs) { ConfirmShare = 0.2 }.Next(measured)!.Value.OutputTokens);
    }

    [Fact]
    public async Task Assess_ReportsTheFitsOwnEstimateAndWhetherTheBudgetWasTooSmall()
    {
        var planner = new AdaptiveProfilingPlanner(Prompts, Outputs);
        var design = await planner.RunAsync(16, Measure, cancellationToken: TestContext.Current.CancellationToken);
        var assessment = planner.Assess(design, cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal((Prompts.Length * Outputs.Length) - design.Select(s => (s.PromptTokens, s.OutputTokens)).Distinct().Count(), assessment.UnmeasuredConfigurations);
        Assert.NotNull(assessment.EstimatedHeldOutError);
        Assert.Equal(0.03, assessment.Model.PerOutputTokenSeconds, 1e-9);
        Assert.False(assessment.BudgetTooSmallFor(0.01));

        // Seven queries leave the staircase between three prompt sizes: the fit's own estimate says so.
        var small = planner.Assess(design.Take(7), cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(small.BudgetTooSmallFor(0.01), $"estimate {small.EstimatedHeldOutError}");
        Assert.Equal("targetP90", Assert.Throws<ArgumentOutOfRangeException>(() => assessment.BudgetTooSmallFor(0)).ParamName);
    }

    [Fact]
    public async Task TwoOutputLengths_SpendTheDecodeShareOnSweeps_AsMoreDo()
    {
        // With two output lengths the second is the longest: a query there is a sweep, never a confirmation (once every
        // sweep counted as one, and the planner swept about half of its budget, always at the smallest unswept prompt).
        int[] prompts = [.. Enumerable.Range(0, 33).Select(i => (i * 64) + 1)];
        foreach (var outputs in new[] { new[] { 1, 64 }, [1, 8, 32, 64] })
        {
            var design = await new AdaptiveProfilingPlanner(prompts, outputs).RunAsync(30, Measure, cancellationToken: TestContext.Current.CancellationToken);
            var sweeps = design.Where(s => s.OutputTokens != 1).Select(s => s.PromptTokens).ToArray();
            Assert.InRange(sweeps.Length, 3, 8); // the three seed sweeps and DecodeShare = 0.15 of the rest
            Assert.Contains(sweeps, p => p is > 1 and < 1024); // spread out, not all at the smallest prompt sizes
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task RunAsync_RefusesASampleOfAnotherConfiguration_InsteadOfAskingForItForEver()
    {
        // A server that stops a token early (an EOS) answers another o than asked; the planner would ask again and again.
        var calls = 0;
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => new AdaptiveProfilingPlanner(Prompts, Outputs).RunAsync(
            10,
            (q, _) =>
            {
                calls++;
                var o = q.OutputTokens > 1 ? q.OutputTokens - 1 : 1;
                return ValueTask.FromResult(new ProfilingSample(q.PromptTokens, o, Truth(q.PromptTokens, o)));
            },
            cancellationToken: TestContext.Current.CancellationToken));

        Assert.InRange(calls, 1, 10);
        Assert.Contains("o = 63", ex.Message, StringComparison.Ordinal);
        Assert.Contains("ignore_eos", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ShortOutputChecks_FollowTheSeed_AtTheSecondOutputLength()
    {
        var planner = new AdaptiveProfilingPlanner(Prompts, Outputs) { ShortOutputChecks = 2 };
        var measured = Seeds();
        var first = planner.Next(measured)!.Value;
        measured.Add(new ProfilingSample(first.PromptTokens, first.OutputTokens, Truth(first.PromptTokens, first.OutputTokens)));
        var second = planner.Next(measured)!.Value;
        measured.Add(new ProfilingSample(second.PromptTokens, second.OutputTokens, Truth(second.PromptTokens, second.OutputTokens)));

        Assert.Equal(new ConfigurationQuery(1, 8), first);
        Assert.Equal(new ConfigurationQuery(1024, 8), second);
        // Two checks, not three; and without them the planner goes on as before.
        Assert.NotEqual(8, planner.Next(measured)!.Value.OutputTokens);
        Assert.NotEqual(8, new AdaptiveProfilingPlanner(Prompts, Outputs).Next(Seeds())!.Value.OutputTokens);
    }

    [Fact]
    public void ShortOutputChecks_OutOfRange_NamesTheProperty()
    {
        Assert.Equal("ShortOutputChecks", Assert.Throws<ArgumentOutOfRangeException>(() => new AdaptiveProfilingPlanner(Prompts, Outputs) { ShortOutputChecks = 4 }).ParamName);
        Assert.Equal("ShortOutputChecks", Assert.Throws<ArgumentOutOfRangeException>(() => new AdaptiveProfilingPlanner(Prompts, Outputs) { ShortOutputChecks = -1 }).ParamName);
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(-0.1)]
    [InlineData(1.5)]
    [InlineData(double.PositiveInfinity)]
    public void Shares_OutOfRange_NameTheProperty(double share)
    {
        Assert.Equal("DecodeShare", Assert.Throws<ArgumentOutOfRangeException>(() => new AdaptiveProfilingPlanner(Prompts, Outputs) { DecodeShare = share }).ParamName);
        Assert.Equal("ConfirmShare", Assert.Throws<ArgumentOutOfRangeException>(() => new AdaptiveProfilingPlanner(Prompts, Outputs) { ConfirmShare = share }).ParamName);
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(-0.01)]
    [InlineData(double.PositiveInfinity)]
    public void ConfirmNoiseThreshold_Invalid_NamesTheProperty(double threshold)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new AdaptiveProfilingPlanner(Prompts, Outputs) { ConfirmNoiseThreshold = threshold });
        Assert.Equal("ConfirmNoiseThreshold", ex.ParamName);
        Assert.Contains("0 or more", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Options_AtTheirBounds_AreAccepted()
    {
        var planner = new AdaptiveProfilingPlanner(Prompts, Outputs) { DecodeShare = 1, ConfirmShare = 0, ConfirmNoiseThreshold = 0 };
        Assert.Equal(1, planner.DecodeShare);
        Assert.Equal(0, planner.ConfirmNoiseThreshold);
    }

    [Fact]
    public void Next_NullSample_NamesItsIndex()
    {
        var measured = Seeds();
        measured.Insert(2, null!);
        var ex = Assert.Throws<ArgumentException>(() => new AdaptiveProfilingPlanner(Prompts, Outputs).Next(measured));
        Assert.Equal("measured", ex.ParamName);
        Assert.Contains("measured[2] is null", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_NullAlreadyMeasuredSample_NamesItsIndex()
    {
        var ex = await Assert.ThrowsAsync<ArgumentException>(() => new AdaptiveProfilingPlanner(Prompts, Outputs).RunAsync(
            8, Measure, alreadyMeasured: [new ProfilingSample(1, 1, 0.1), null!], cancellationToken: TestContext.Current.CancellationToken));
        Assert.Equal("alreadyMeasured", ex.ParamName);
        Assert.Contains("alreadyMeasured[1] is null", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_MeasureReturningNull_NamesTheConfiguration()
    {
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => new AdaptiveProfilingPlanner(Prompts, Outputs).RunAsync(
            8, (_, _) => ValueTask.FromResult<ProfilingSample>(null!), cancellationToken: TestContext.Current.CancellationToken));
        Assert.Contains("returned null", ex.Message, StringComparison.Ordinal);
        Assert.Contains("(p = 1, o = 1)", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(-0.5)]
    [InlineData(0.0)]
    [InlineData(double.PositiveInfinity)]
    public async Task RunAsync_MeasureReturningAnImpossibleRuntime_NamesTheConfigurationAndValue(double runtime)
    {
        // The third query fails: the seed's (1, 64).
        var calls = 0;
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => new AdaptiveProfilingPlanner(Prompts, Outputs).RunAsync(
            8,
            (q, ct) => ++calls == 3 ? ValueTask.FromResult(new ProfilingSample(q.PromptTokens, q.OutputTokens, runtime)) : Measure(q, ct),
            cancellationToken: TestContext.Current.CancellationToken));
        Assert.Contains("(p = 1, o = 64)", ex.Message, StringComparison.Ordinal);
        Assert.Contains(runtime.ToString(System.Globalization.CultureInfo.InvariantCulture), ex.Message, StringComparison.Ordinal);
        Assert.Contains("finite and positive", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ShortOutputChecks_LetTheEstimateSeeTheScatterOfShortQueries()
    {
        // Prompt sizes and output lengths like the Megatron logs', and a 3 ms Gaussian scatter on every runtime: relative to
        // itself, a 60 ms query scatters twenty times more than a 1.2 s one, and most unmeasured configurations are short.
        // Over twelve seeded grids, the estimate / real held-out p90 without checks and with two.
        int[] prompts = [.. Enumerable.Range(0, 16).Select(i => 1 + (128 * i))];
        int[] outputs = [1, 2, 4, 8, 16, 32, 64];
        var clean = new ProfilingGrid("linear", prompts.SelectMany(p => outputs.Select(o => new ProfilingSample(p, o, 0.03 + (0.00005 * p) + (0.018 * (o - 1))))));
        var ratios = new[] { new List<double>(), new List<double>() };
        for (var seed = 1; seed <= 12; seed++)
        {
            var grid = NoisyGrid.Create(clean, (_, _) => 0.003, new NoisyGridOptions { NoiseScale = Math.Sqrt(2), Seed = seed });
            foreach (var checks in new[] { 0, 2 })
            {
                var planner = new AdaptiveProfilingPlanner(prompts, outputs) { ShortOutputChecks = checks };
                var design = await planner.RunAsync(30, (q, _) => ValueTask.FromResult(grid.Measure(q.PromptTokens, q.OutputTokens)), cancellationToken: TestContext.Current.CancellationToken);
                var assessment = planner.Assess(design, cancellationToken: TestContext.Current.CancellationToken);
                ratios[checks / 2].Add(assessment.EstimatedHeldOutError!.P90 / grid.HeldOutError(assessment.Model, design).P90);
            }
        }

        double without = Percentiles.Of(ratios[0], 50), with = Percentiles.Of(ratios[1], 50);
        Assert.True(without < 0.25, $"without checks the folds see long queries only: median estimate / real p90 {without:F2}");
        Assert.True(with > 2 * without, $"with two checks: median {with:F2} against {without:F2}");
    }

    [Fact]
    public void Constructor_RejectsDegenerateGrids()
    {
        Assert.Throws<ArgumentException>(() => new AdaptiveProfilingPlanner([1], Outputs));
        Assert.Throws<ArgumentException>(() => new AdaptiveProfilingPlanner(Prompts, [0, 4]));
    }
}
