using LlmEff.Profiling.Api.Analysis;
using LlmEff.Profiling.Api.Journal;
using LlmEff.Profiling.Api.Profiling;
using LlmEff.Profiling.Api.Tests.Emulator;

namespace LlmEff.Profiling.Api.Tests.Profiling;

/// <summary>
/// End to end against the emulator: the denoised fit must recover the emulator's latency parameters. Timing tests
/// run alone so that other tests' CPU use does not add noise the minimum cannot remove.
/// </summary>
[Collection(TimingCollection.Name)]
public sealed class DenoisedFitTests
{
    private static readonly EmulatedLatency Truth = new();

    [Fact(Timeout = 60_000)]
    public async Task DenoisedFit_RecoversKnownLatencyParameters()
    {
        await using var emulator = await OpenAiEmulator.StartAsync(Truth, seed: 7);
        using var endpoint = Harness.Endpoint(emulator);
        using var dir = new TempDirectory();
        var options = new ApiProfilingOptions
        {
            JournalPath = dir.File("journal.jsonl"),
            PromptTokens = [16, 64, 128],
            OutputTokens = [1, 4, 8, 16],
            Trials = 5,
            Seed = 3,
        };

        var result = await new ApiProfiler(endpoint, Harness.Cl100k, options).RunAsync(cancellationToken: TestContext.Current.CancellationToken);
        var report = DenoisedRuntimeAnalysis.Analyze(result.Records);

        Assert.Equal(ProfilingStopReason.Completed, result.StopReason);
        Assert.Equal(60, result.Records.Count);
        Assert.All(result.Records, r => Assert.Equal(ApiSampleStatus.Succeeded, r.Status));
        Assert.Equal(0, report.MismatchedSamples);

        // Ground truth from EmulatedLatency's defaults: g = 2 ms, PE(p) + overhead = 15 ms + 0.1 ms·p. Timer
        // overshoot and loopback HTTP add a roughly constant ~0.1–2 ms, which lands in PE; g must be within 0.3 ms.
        Assert.InRange(report.Model.PerOutputTokenSeconds, Truth.PerOutputTokenSeconds - 0.0003, Truth.PerOutputTokenSeconds + 0.0003);
        foreach (var p in options.PromptTokens)
        {
            var expected = Truth.DenoisedPromptSeconds(p);
            Assert.InRange(report.Model.PromptEncodingSeconds(p), expected - 0.001, expected + 0.004);
        }

        // Noise is non-negative and 60% of requests get some, so most raw runs sit above the denoised line (paper: 96.6%).
        Assert.InRange(report.ShareAboveDenoised, 0.5, 1.0);
        Assert.Equal(12, report.Configurations.Count);
        Assert.All(report.Configurations, c => Assert.Equal(5, c.Trials));
        Assert.True(report.MeanCoefficientOfVariation > 0, $"CV {report.MeanCoefficientOfVariation}");
        Assert.Equal(Core.RuntimeMetric.Denoised, report.Model.Metadata.Metric);
    }

    [Fact(Timeout = 60_000)]
    public async Task Streaming_RecordsTimeToFirstTokenAndEveryGap()
    {
        await using var emulator = await OpenAiEmulator.StartAsync(Truth with { NoiseMeanSeconds = 0.002, PerOutputTokenSeconds = 0.004 }, seed: 11);
        using var endpoint = Harness.Endpoint(emulator);
        using var dir = new TempDirectory();
        var options = new ApiProfilingOptions
        {
            JournalPath = dir.File("journal.jsonl"),
            PromptTokens = [32, 128],
            OutputTokens = [2, 12],
            Trials = 3,
            Stream = true,
        };

        var result = await new ApiProfiler(endpoint, Harness.Cl100k, options).RunAsync(cancellationToken: TestContext.Current.CancellationToken);
        var report = DenoisedRuntimeAnalysis.Analyze(result.Records);

        Assert.Equal(12, result.Records.Count);
        foreach (var record in result.Records)
        {
            Assert.True(record.Stream);
            Assert.Equal(record.OutputTokens - 1, record.InterTokenGapsSeconds!.Count);
            Assert.Equal(record.OutputTokens, record.ReportedOutputTokens); // from the include_usage chunk
            Assert.Equal(record.PromptTokens, record.ReportedPromptTokens);
            // The first token cannot come before overhead + PE(p) (noise and load only add).
            Assert.True(record.TimeToFirstTokenSeconds >= Truth.DenoisedPromptSeconds(record.PromptTokens) - 0.0005, $"TTFT {record.TimeToFirstTokenSeconds}");
            Assert.True(record.RuntimeSeconds >= record.TimeToFirstTokenSeconds);
        }

        // Gaps are scheduled g = 4 ms apart on absolute deadlines; their median must sit near g.
        Assert.InRange(report.MedianInterTokenGapSeconds!.Value, 0.0035, 0.008); // 4 ms emulated; a loaded 2-core CI machine adds scheduling delay
        Assert.InRange(report.Model.PerOutputTokenSeconds, 0.0035, 0.008);
        Assert.NotNull(report.MedianTimeToFirstTokenSeconds);
    }

    [Fact(Timeout = 60_000)]
    public async Task LoadStudy_ReportsRuntimeAgainstConcurrency()
    {
        await using var emulator = await OpenAiEmulator.StartAsync(Truth with { LoadPenaltyPerRequest = 0.5, OverheadSeconds = 0.025 }, seed: 5);
        using var endpoint = Harness.Endpoint(emulator);
        using var dir = new TempDirectory();
        var options = ApiProfilingOptions.LoadStudy(dir.File("load.jsonl"), maxConcurrency: 4, promptTokens: 64) with
        {
            OutputTokens = [1, 8],
            Trials = 3,
        };
        Assert.Equal(new[] { 1, 2, 4 }, options.ConcurrencyLevels);
        Assert.Equal(42, options.PlannedRequests); // (1 + 2 + 4) × 1 × 2 × 3

        var result = await new ApiProfiler(endpoint, Harness.Cl100k, options).RunAsync(cancellationToken: TestContext.Current.CancellationToken);
        var points = LoadStudyAnalysis.Analyze(result.Records);

        Assert.Equal(42, result.Records.Count);
        Assert.Equal(6, points.Count);
        foreach (var o in options.OutputTokens)
        {
            var curve = points.Where(pt => pt.OutputTokens == o).OrderBy(pt => pt.Concurrency).ToArray();
            Assert.Equal(new[] { 1, 2, 4 }, curve.Select(pt => pt.Concurrency));
            Assert.Equal(new[] { 3, 6, 12 }, curve.Select(pt => pt.Samples));
            Assert.Equal(1.0, curve[0].SlowdownOfMinimum, 12);
            // The emulator slows the non-overhead part of a request by 50% per extra request in flight (counted on
            // arrival and after the 25 ms overhead): with 4 in flight that part takes 2.5×, so the fastest request at
            // concurrency 4 is ~1.6× (o = 1) to ~1.9× (o = 8) the unloaded one; 1.2× leaves room for arrival skew.
            Assert.True(curve[2].SlowdownOfMinimum > 1.2, $"o={o}: slowdown at 4 = {curve[2].SlowdownOfMinimum}");
            Assert.True(curve[2].MinimumSeconds > curve[1].MinimumSeconds, $"o={o}: {curve[1].MinimumSeconds} vs {curve[2].MinimumSeconds}");
        }

        Assert.Equal(42, emulator.ReceivedCount);
    }
}
