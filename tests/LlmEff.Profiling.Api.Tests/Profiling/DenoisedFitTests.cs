using LlmEff.Profiling.Api.Tests.Emulator;

namespace LlmEff.Profiling.Api.Tests.Profiling;

/// <summary>
/// The denoised fit must recover known latency parameters. Recovery is checked against <see cref="SimulatedEndpoint"/>,
/// whose runtimes come from the latency model and a seed rather than a wall clock, so a busy machine cannot move
/// them; the streaming test times the HTTP emulator for real and runs alone with loose bounds.
/// </summary>
[Collection(TimingCollection.Name)]
public sealed class DenoisedFitTests
{
    private static readonly EmulatedLatency Truth = new();

    [Fact(Timeout = 60_000)]
    public async Task DenoisedFit_RecoversKnownLatencyParameters()
    {
        var endpoint = new SimulatedEndpoint(Truth, seed: 7);
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

        // Ground truth from EmulatedLatency's defaults: g = 2 ms, PE(p) + overhead = 15 ms + 0.1 ms·p. Noise is
        // non-negative and 40% of requests get none, so the minimum of 5 trials is usually, not always, noiseless.
        Assert.Equal(Truth.PerOutputTokenSeconds, report.Model.PerOutputTokenSeconds, 2e-4);
        foreach (var p in options.PromptTokens)
        {
            Assert.InRange(report.Model.PromptEncodingSeconds(p), Truth.DenoisedPromptSeconds(p) - 0.0005, Truth.DenoisedPromptSeconds(p) + 0.002);
        }

        Assert.Equal(60, endpoint.Requests);

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
            // The server cannot send sooner than the latency model says (noise and a busy machine only add), so lower
            // bounds hold on any machine: the first token after overhead + PE(p), the last (o − 1)·g later.
            var g = 0.004;
            Assert.True(record.TimeToFirstTokenSeconds >= Truth.DenoisedPromptSeconds(record.PromptTokens) - 0.0005, $"TTFT {record.TimeToFirstTokenSeconds}");
            Assert.True(record.RuntimeSeconds >= Truth.DenoisedPromptSeconds(record.PromptTokens) + ((record.OutputTokens - 1) * g) - 0.0005, $"runtime {record.RuntimeSeconds}");
            Assert.True(record.TimeToFirstTokenSeconds + record.InterTokenGapsSeconds.Sum() <= record.RuntimeSeconds + 1e-9);
        }

        // How close the gaps and the fit come to g depends on the machine's load (recovery itself is checked on the
        // simulated endpoint above); here they only have to exist and be positive.
        Assert.True(report.MedianInterTokenGapSeconds > 0);
        Assert.True(report.Model.PerOutputTokenSeconds > 0);
        Assert.NotNull(report.MedianTimeToFirstTokenSeconds);
    }

    [Fact(Timeout = 60_000)]
    public async Task LoadStudy_ReportsRuntimeAgainstConcurrency()
    {
        using var dir = new TempDirectory();
        var options = ApiProfilingOptions.LoadStudy(dir.File("load.jsonl"), maxConcurrency: 4, promptTokens: 64) with
        {
            OutputTokens = [1, 8],
            Trials = 3,
        };
        Assert.Equal(new[] { 1, 2, 4 }, options.ConcurrencyLevels);
        var batches = options.ConcurrencyLevels.SelectMany(c => Enumerable.Repeat(c, options.Trials * options.OutputTokens.Count)).ToArray();
        var endpoint = new SimulatedEndpoint(Truth with { LoadPenaltyPerRequest = 0.5, OverheadSeconds = 0.025 }, seed: 5, batches);
        Assert.Equal(42, options.PlannedRequests); // (1 + 2 + 4) × 1 × 2 × 3

        // The simulated endpoint holds each request until its batch is complete: a batch sent one by one would hang here.
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
            // The non-overhead part slows by 50% per extra request in flight: 2.5× at 4, so the fastest request at
            // concurrency 4 is ~1.5× (o = 1) to ~1.9× (o = 8) the unloaded one.
            Assert.True(curve[2].SlowdownOfMinimum > 1.4, $"o={o}: slowdown at 4 = {curve[2].SlowdownOfMinimum}");
            Assert.True(curve[2].MinimumSeconds > curve[1].MinimumSeconds, $"o={o}: {curve[1].MinimumSeconds} vs {curve[2].MinimumSeconds}");
        }

        Assert.All(result.Records, r => Assert.Equal(r.Concurrency, r.InFlight));
        Assert.Equal(42, endpoint.Requests);
    }
}
