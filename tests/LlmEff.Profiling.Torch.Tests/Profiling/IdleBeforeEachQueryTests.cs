using Microsoft.Extensions.Time.Testing;

namespace LlmEff.Profiling.Torch.Tests.Profiling;

public sealed class IdleBeforeEachQueryTests
{
    private static readonly ProfilingPlan SmallPlan = new()
    {
        PromptTokens = [1, 8],
        OutputTokens = [1, 3],
        Trials = 2,
        WarmupRuns = 1,
    };

    [TorchFact]
    public void Each_timed_point_waits_on_the_options_clock_and_the_warm_up_does_not()
    {
        var clock = new WaitRecordingClock();
        var options = new TorchProfilerOptions
        {
            Device = "cpu",
            Model = new DecoderOptions { Precision = ModelPrecision.Float32, Seed = 3 },
            IdleBeforeEachQuery = TimeSpan.FromMilliseconds(500),
            TimeProvider = clock,
        };

        var profile = new TorchProfiler(options).Run(TinyArchitectures.Llama, SmallPlan, cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(SmallPlan.TotalQueries, profile.Samples.Count);
        Assert.Equal(Enumerable.Repeat(TimeSpan.FromMilliseconds(500), SmallPlan.TotalQueries), clock.Waits);
        Assert.EndsWith("; 0.5 s idle before each timed point", profile.ToMetadata().Notes, StringComparison.Ordinal);
    }

    [TorchFact]
    public async Task Batched_points_wait_once_each_too()
    {
        var clock = new WaitRecordingClock();
        var dir = Directory.CreateTempSubdirectory("llmeff-idle-").FullName;
        try
        {
            var options = new ProfileFolderOptions
            {
                Architecture = TinyArchitectures.Llama,
                OutputDirectory = dir,
                Plan = SmallPlan with { BatchSizes = [1, 2], Trials = 1, WarmupRuns = 0 },
                Profiler = new TorchProfilerOptions { Device = "cpu", Model = new DecoderOptions { Precision = ModelPrecision.Float32 }, IdleBeforeEachQuery = TimeSpan.FromSeconds(2), TimeProvider = clock },
                FitOptions = new Core.RuntimeFitOptions { RSquaredWarningThreshold = 0, KeepNonPhysicalFit = true },
            };

            var result = await TorchProfiler.ProfileToFolderAsync(options, cancellationToken: TestContext.Current.CancellationToken);

            var timed = Core.Serialization.ProfilingSampleCsv.ReadFile(result.SamplesPaths[0]).Count;
            Assert.Equal(8, timed);
            Assert.Equal(Enumerable.Repeat(TimeSpan.FromSeconds(2), timed), clock.Waits);
            Assert.EndsWith("; 2 s idle before each timed point", Core.Batching.BatchedRuntimeModel.Load(result.BatchedModelPath!).Metadata.Notes, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [TorchFact]
    public void Back_to_back_by_default_never_touches_the_clock()
    {
        var clock = new WaitRecordingClock();
        var options = new TorchProfilerOptions { Device = "cpu", Model = new DecoderOptions { Precision = ModelPrecision.Float32 }, TimeProvider = clock };

        var profile = new TorchProfiler(options).Run(TinyArchitectures.Gpt, SmallPlan, cancellationToken: TestContext.Current.CancellationToken);

        Assert.Empty(clock.Waits);
        Assert.DoesNotContain("idle", profile.ToMetadata().Notes, StringComparison.Ordinal);
        Assert.Equal(clock.GetUtcNow(), profile.MeasuredUtc); // stamped on the options' clock, as everything timed but runtimes
    }

    [Fact]
    public void A_negative_idle_time_is_refused_with_the_property_and_the_fix()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new TorchProfiler(new TorchProfilerOptions { IdleBeforeEachQuery = TimeSpan.FromSeconds(-1) }));
        Assert.Equal("options", ex.ParamName);
        Assert.Contains("IdleBeforeEachQuery", ex.Message, StringComparison.Ordinal);
        Assert.Contains("TimeSpan.Zero", ex.Message, StringComparison.Ordinal);
    }

    /// <summary>A fake clock whose every timer fires at once (the clock moves forward by its wait), recording the waits.</summary>
    private sealed class WaitRecordingClock : FakeTimeProvider
    {
        private readonly List<TimeSpan> _waits = [];

        public IReadOnlyList<TimeSpan> Waits
        {
            get
            {
                lock (_waits)
                {
                    return _waits.ToArray();
                }
            }
        }

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            var timer = base.CreateTimer(callback, state, dueTime, period);
            if (dueTime > TimeSpan.Zero)
            {
                lock (_waits)
                {
                    _waits.Add(dueTime);
                }

                // Not inline: Task.Delay has not finished constructing its timer yet.
                ThreadPool.QueueUserWorkItem(_ => Advance(dueTime));
            }

            return timer;
        }
    }
}
