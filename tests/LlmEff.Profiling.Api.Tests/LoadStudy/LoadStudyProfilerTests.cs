using LlmEff.Core.Serialization;
using LlmEff.Profiling.Api.Tests.Emulator;

namespace LlmEff.Profiling.Api.Tests.LoadStudy;

/// <summary>Concurrency and request-rate sweeps against in-process endpoints on a fake clock.</summary>
public sealed class LoadStudyProfilerTests
{
    // Noise-free, so every latency follows from the model: TTFT = 10 ms + load·(5 ms + 0.1 ms·p), TPOT = load·2 ms.
    private static readonly EmulatedLatency Model = new() { NoiseMeanSeconds = 0, LoadPenaltyPerRequest = 0.5 };

    [Fact(Timeout = 60_000)]
    public async Task ConcurrencySweep_KeepsCInFlight_AndSummariesFollowTheLatencyModel()
    {
        using var dir = new TempDirectory();
        // The simulated server answers only when the whole batch is in, so a sweep that did not keep c requests in
        // flight would hang here: 8 batches of 1, 4 of 2, 2 of 4.
        var endpoint = new SimulatedEndpoint(Model, seed: 1, batchSizes: [.. Enumerable.Repeat(1, 8), .. Enumerable.Repeat(2, 4), .. Enumerable.Repeat(4, 2)]);
        var options = new LoadStudyOptions { JournalPath = dir.File("load.jsonl"), PromptTokens = [100], OutputTokens = [11], ConcurrencyLevels = [1, 2, 4], MaxRequestsPerLevel = 8 };

        var result = await new LoadStudyProfiler(endpoint, Harness.Cl100k, options).RunAsync(cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal((3, 0, 0), (result.LevelsRun, result.LevelsResumed, result.Failed));
        Assert.Equal(24, result.Records.Count);
        Assert.Equal(Enumerable.Range(0, 8), result.Records.Where(r => r.Concurrency == 2).Select(r => r.Trial));
        Assert.All(result.Records, r => Assert.InRange(r.InFlight!.Value, 1, r.Concurrency));
        var levels = LoadStudyAnalysis.Summarize(result.Records);
        Assert.Equal(new[] { 1.0, 2, 4 }, levels.Select(l => l.Load));
        foreach (var level in levels)
        {
            var load = 1 + (0.5 * (level.Load - 1));
            var ttft = 0.010 + (load * (0.005 + (0.0001 * 100)));
            Assert.Equal(8, level.Succeeded);
            Assert.Equal(ttft, level.TimeToFirstToken!.P99Seconds, 12);
            Assert.Equal(load * 0.002, level.TimePerOutputToken!.P50Seconds, 12);
            Assert.Equal(ttft + (10 * load * 0.002), level.EndToEnd!.P90Seconds, 12);
        }

        // A rerun finds every level in the journal and sends nothing.
        var again = await new LoadStudyProfiler(endpoint, Harness.Cl100k, options).RunAsync(cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal((0, 3), (again.LevelsRun, again.LevelsResumed));
        Assert.Equal(24, endpoint.Requests);
    }

    [Fact(Timeout = 60_000)]
    public async Task RequestRate_SendsAtTheSeededPoissonSchedule_OnTheInjectedClock()
    {
        using var dir = new TempDirectory();
        // Every wait under 10 minutes moves the fake clock by exactly its length; the request timeout (1 h) never fires.
        var clock = new TestClock(TimeSpan.FromMinutes(10));
        var options = new LoadStudyOptions
        {
            JournalPath = dir.File("rate.jsonl"), PromptTokens = [16], OutputTokens = [4], RequestRates = [5, 20], MaxRequestsPerLevel = 12,
            Seed = 7, TimeProvider = clock, RequestTimeout = TimeSpan.FromHours(1),
        };

        var result = await new LoadStudyProfiler(new SimulatedEndpoint(Model, 1), Harness.Cl100k, options).RunAsync(cancellationToken: TestContext.Current.CancellationToken);

        for (var level = 0; level < 2; level++)
        {
            var rate = options.RequestRates[level];
            var expected = PoissonArrivals.OffsetsSeconds(rate, PoissonArrivals.LevelSeed(7, level), 12);
            var sent = result.Records.Where(r => r.RequestRate == rate).OrderBy(r => r.Trial).Select(r => r.LoadOffsetSeconds!.Value).ToArray();
            Assert.Equal(12, sent.Length);
            // Timers count whole milliseconds, so each request leaves within the millisecond of its arrival time.
            Assert.All(expected.Zip(sent), pair => Assert.InRange(pair.First - pair.Second, -1e-9, 0.001));
            Assert.Equal(expected.Select(t => Math.Floor(t * 1000)), sent.Select(t => Math.Round(t * 1000)));
            Assert.All(result.Records.Where(r => r.RequestRate == rate), r => Assert.Equal(0, r.Concurrency));
        }

        // The schedule is a function of the seed: the same seed repeats it, another changes it; its mean gap is about 1/rate.
        Assert.Equal(PoissonArrivals.OffsetsSeconds(5, 3, 50), PoissonArrivals.OffsetsSeconds(5, 3, 50));
        Assert.NotEqual(PoissonArrivals.OffsetsSeconds(5, 3, 50), PoissonArrivals.OffsetsSeconds(5, 4, 50));
        Assert.InRange(PoissonArrivals.OffsetsSeconds(5, 3, 4000)[^1] / 4000, 0.19, 0.21);
        Assert.NotEqual(PoissonArrivals.LevelSeed(7, 0), PoissonArrivals.LevelSeed(7, 1));
    }

    [Fact(Timeout = 60_000)]
    public async Task Duration_EndsALevel_OnTheInjectedClock()
    {
        using var dir = new TempDirectory();
        var clock = new TestClock(TimeSpan.FromMinutes(10));
        var options = new LoadStudyOptions
        {
            JournalPath = dir.File("rate.jsonl"), PromptTokens = [16], OutputTokens = [4], RequestRates = [10], Duration = TimeSpan.FromSeconds(3),
            Seed = 2, TimeProvider = clock, RequestTimeout = TimeSpan.FromHours(1),
        };

        var result = await new LoadStudyProfiler(new SimulatedEndpoint(Model, 1), Harness.Cl100k, options).RunAsync(cancellationToken: TestContext.Current.CancellationToken);

        var expected = PoissonArrivals.OffsetsSeconds(10, PoissonArrivals.LevelSeed(2, 0), 1000).Count(t => t < 3);
        Assert.Equal(expected, result.Records.Count);
        Assert.InRange(expected, 10, 60);
    }

    [Fact(Timeout = 60_000)]
    public async Task Interrupted_LevelIsDroppedAndRerun_FinishedLevelsAreKept()
    {
        using var dir = new TempDirectory();
        var endpoint = new SimulatedEndpoint(Model, 1);
        var options = new LoadStudyOptions { JournalPath = dir.File("load.jsonl"), PromptTokens = [16], OutputTokens = [4], ConcurrencyLevels = [1, 2], MaxRequestsPerLevel = 6 };
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var progress = new SyncProgress<LoadStudyProgress>(p =>
        {
            if (p.LevelIndex == 1 && p.Finished == 2)
            {
                cancel.Cancel();
            }
        });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => new LoadStudyProfiler(endpoint, Harness.Cl100k, options).RunAsync(progress, cancel.Token));
        Assert.Equal(6, ApiSampleJournal.Read(options.JournalPath).Count); // level 1 only: a partial level measured another load
        var sentBefore = endpoint.Requests;

        var resumed = await new LoadStudyProfiler(endpoint, Harness.Cl100k, options).RunAsync(cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal((1, 1), (resumed.LevelsRun, resumed.LevelsResumed));
        Assert.Equal(sentBefore + 6, endpoint.Requests);
        Assert.Equal(12, resumed.Records.Count);

        // Another cap is another plan: the journal refuses it instead of mixing the two.
        var other = options with { MaxRequestsPerLevel = 7 };
        var refused = await Assert.ThrowsAsync<InvalidDataException>(() => new LoadStudyProfiler(endpoint, Harness.Cl100k, other).RunAsync(cancellationToken: TestContext.Current.CancellationToken));
        Assert.Contains("max_requests_per_level: '6' vs '7'", refused.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task LevelJournaledInPart_IsDroppedAndRerun()
    {
        // The run stopped while writing level 2's records: three of its six lines reached the journal.
        using var dir = new TempDirectory();
        var endpoint = new SimulatedEndpoint(Model, 1);
        var options = new LoadStudyOptions { JournalPath = dir.File("load.jsonl"), PromptTokens = [16], OutputTokens = [4], ConcurrencyLevels = [1, 2], MaxRequestsPerLevel = 6 };
        await new LoadStudyProfiler(endpoint, Harness.Cl100k, options).RunAsync(cancellationToken: TestContext.Current.CancellationToken);
        var lines = File.ReadAllLines(options.JournalPath);
        Assert.Equal(1 + 12, lines.Length);
        Assert.All(ApiSampleJournal.Read(options.JournalPath), r => Assert.Equal(6, r.LevelRequests));
        File.WriteAllText(options.JournalPath, string.Join('\n', lines.Take(1 + 6 + 3)) + "\n" + lines[10][..20]);
        var logger = new ListLogger<LoadStudyProfiler>();

        var resumed = await new LoadStudyProfiler(endpoint, Harness.Cl100k, options, logger).RunAsync(cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal((1, 1), (resumed.LevelsRun, resumed.LevelsResumed));
        Assert.Equal(12 + 6, endpoint.Requests);
        Assert.Equal([6, 6], resumed.Records.GroupBy(r => r.Concurrency).Select(g => g.Count()));
        Assert.Equal(Enumerable.Range(0, 6), resumed.Records.Where(r => r.Concurrency == 2).Select(r => r.Trial));
        Assert.Single(logger.Messages, m => m.StartsWith("Warning", StringComparison.Ordinal) && m.Contains("3 of 6 requests", StringComparison.Ordinal));
        Assert.Equal(6, LoadStudyAnalysis.Summarize(resumed.Records).Single(l => l.Load == 2).Succeeded);
    }

    [Fact]
    public void Options_AreCheckedWithTheFix()
    {
        var endpoint = new SimulatedEndpoint(Model, 1);
        var ok = new LoadStudyOptions { JournalPath = "j.jsonl", ConcurrencyLevels = [1], MaxRequestsPerLevel = 1 };
        Assert.Contains("at least 1", Assert.Throws<ArgumentOutOfRangeException>(() => new LoadStudyProfiler(endpoint, Harness.Cl100k, ok with { ConcurrencyLevels = [0] })).Message, StringComparison.Ordinal);
        Assert.Contains("positive requests per second", Assert.Throws<ArgumentOutOfRangeException>(() => new LoadStudyProfiler(endpoint, Harness.Cl100k, ok with { ConcurrencyLevels = null, RequestRates = [-1] })).Message, StringComparison.Ordinal);
        Assert.Contains("sweeps one of them", Assert.Throws<ArgumentException>(() => new LoadStudyProfiler(endpoint, Harness.Cl100k, ok with { RequestRates = [1] })).Message, StringComparison.Ordinal);
        Assert.Contains("needs an end", Assert.Throws<ArgumentException>(() => new LoadStudyProfiler(endpoint, Harness.Cl100k, ok with { MaxRequestsPerLevel = null })).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => PoissonArrivals.OffsetsSeconds(double.NaN, 1, 1));
    }

    [Fact(Timeout = 60_000)]
    public async Task Export_RequestsReadBackAsSamples_AndSummaryIsJson()
    {
        using var dir = new TempDirectory();
        var options = new LoadStudyOptions { JournalPath = dir.File("load.jsonl"), PromptTokens = [16, 32], OutputTokens = [4], ConcurrencyLevels = [1, 2], MaxRequestsPerLevel = 4 };
        var result = await new LoadStudyProfiler(new SimulatedEndpoint(Model, 1), Harness.Cl100k, options).RunAsync(cancellationToken: TestContext.Current.CancellationToken);

        LoadStudyExport.WriteRequests(result.Records, dir.File("requests.csv"));
        LoadStudyExport.WriteRequests(result.Records, dir.File("requests.json"));
        LoadStudyExport.WriteSummary(LoadStudyAnalysis.Summarize(result.Records), ServiceLevelObjectives.Parse("e2e=1"), dir.File("summary.json"));

        // The CSV's first columns are a samples CSV: the fit and plot commands read it as it is.
        var samples = ProfilingSampleCsv.ReadFile(dir.File("requests.csv"));
        Assert.Equal(result.Records.Select(r => (r.PromptTokens, r.RuntimeSeconds!.Value)), samples.Select(s => (s.PromptTokens, s.RuntimeSeconds)));
        Assert.Equal(new[] { 16, 32, 16, 32 }, samples.Take(4).Select(s => s.PromptTokens)); // requests cycle through the grid
        var header = File.ReadLines(dir.File("requests.csv")).First();
        Assert.Equal(string.Join(",", LoadStudyExport.RequestColumns), header);

        using var requests = System.Text.Json.JsonDocument.Parse(File.ReadAllText(dir.File("requests.json")));
        Assert.Equal(8, requests.RootElement.GetArrayLength());
        var first = requests.RootElement[0];
        Assert.Equal(LoadStudyExport.RequestColumns, first.EnumerateObject().Select(p => p.Name));
        Assert.Equal("succeeded", first.GetProperty("status").GetString());
        Assert.Equal(result.Records[0].TimeToFirstTokenSeconds, first.GetProperty("time_to_first_token_seconds").GetDouble());

        using var summary = System.Text.Json.JsonDocument.Parse(File.ReadAllText(dir.File("summary.json")));
        Assert.Equal(LoadStudyExport.SummarySchema, summary.RootElement.GetProperty("schema").GetString());
        Assert.Equal(1, summary.RootElement.GetProperty("objectives").GetProperty("e2e_seconds").GetDouble());
        var levels = summary.RootElement.GetProperty("levels");
        Assert.Equal(2, levels.GetArrayLength());
        Assert.Equal(4, levels[1].GetProperty("succeeded").GetInt32());
        Assert.True(levels[1].GetProperty("e2e").GetProperty("p99_seconds").GetDouble() > 0);
        Assert.Throws<ArgumentException>(() => LoadStudyExport.WriteRequests(result.Records, dir.File("requests.txt")));
    }
}
