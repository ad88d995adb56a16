using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace LlmEff.Profiling.Api;

/// <summary>
/// Sweeps an endpoint over load levels: concurrency levels (a closed loop keeping <c>c</c> requests in flight) or
/// request rates (Poisson arrivals on the options' clock, an open loop). Each level runs until its duration or request
/// cap, journals its requests when it ends, and a rerun skips the levels already in the journal. Summarise the
/// journal with <see cref="LoadStudyAnalysis.Summarize"/>.
/// </summary>
/// <remarks>
/// A level is the unit of resumption: its requests are journaled together when it ends, because a level cut short and
/// continued later would have measured another load. Requests are not retried (a retry changes the load); errors and
/// timeouts are journaled as failed and count against goodput.
/// </remarks>
public sealed class LoadStudyProfiler
{
    private readonly IProfilingEndpoint _endpoint;
    private readonly SyntheticPromptFactory _prompts;
    private readonly LoadStudyOptions _options;
    private readonly ILogger<LoadStudyProfiler> _logger;
    private readonly (int P, int O)[] _grid;

    /// <summary>Creates a load study.</summary>
    /// <param name="endpoint">What to measure.</param>
    /// <param name="prompts">Builds the exact-size synthetic prompts.</param>
    /// <param name="options">Levels, caps, grid, clock and journal.</param>
    /// <param name="logger">Receives each level's start and end and failures; never the API key.</param>
    /// <exception cref="ArgumentException">Invalid options (the message names the option and the fix).</exception>
    public LoadStudyProfiler(IProfilingEndpoint endpoint, SyntheticPromptFactory prompts, LoadStudyOptions options, ILogger<LoadStudyProfiler>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(prompts);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _endpoint = endpoint;
        _prompts = prompts;
        _options = options;
        _logger = logger ?? NullLogger<LoadStudyProfiler>.Instance;
        _grid = options.PromptTokens.SelectMany(p => options.OutputTokens.Select(o => (p, o))).ToArray();
    }

    /// <summary>Runs (or resumes) the sweep.</summary>
    /// <param name="progress">Receives a report after every finished request.</param>
    /// <param name="cancellationToken">Stops the run; finished levels stay journaled, the level in progress is dropped and rerun on resume.</param>
    /// <exception cref="OperationCanceledException">The run was cancelled.</exception>
    /// <exception cref="InvalidDataException">The journal belongs to another model, endpoint or plan.</exception>
    public async Task<LoadStudyResult> RunAsync(IProgress<LoadStudyProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var mode = _options.Mode;
        var levels = _options.Levels;
        var previous = DropPartLevels(ApiSampleJournal.Read(_options.JournalPath), mode, levels);
        var run = 0;
        var resumed = 0;
        var failed = 0;
        using (var journal = ApiSampleJournal.OpenAppend(_options.JournalPath, Header()))
        {
            for (var index = 0; index < levels.Count; index++)
            {
                var load = levels[index];
                if (previous.Any(r => IsOfLevel(r, mode, load)))
                {
                    resumed++;
                    _logger.LogInformation("Level {Mode} {Load} is in the journal already; skipped.", mode, load);
                    continue;
                }

                _logger.LogInformation("Level {Mode} {Load}: sending.", mode, load);
                var counter = new LevelCounter(index, levels.Count, mode, load, progress);
                var records = mode == LoadStudyMode.Concurrency
                    ? await RunClosedLoopAsync(index, (int)load, counter, cancellationToken).ConfigureAwait(false)
                    : await RunPoissonAsync(index, load, counter, cancellationToken).ConfigureAwait(false);
                // Each record carries its level's count, so that a level cut short while written is told from a whole one.
                foreach (var record in records.OrderBy(r => r.Trial))
                {
                    journal.Append(record with { LevelRequests = records.Count });
                }

                run++;
                failed += counter.Failed;
                _logger.LogInformation("Level {Mode} {Load}: {Requests} requests, {Failed} failed.", mode, load, records.Count, counter.Failed);
            }
        }

        return new LoadStudyResult
        {
            Records = ApiSampleJournal.Read(_options.JournalPath),
            LevelsRun = run,
            LevelsResumed = resumed,
            Failed = failed,
            MinTokensRefused = (_endpoint as OpenAiCompatibleEndpoint)?.MinTokensRefused ?? false,
            JournalPath = Path.GetFullPath(_options.JournalPath),
        };
    }

    // A level is journaled whole or, when the run stopped while writing it, in part: a part is dropped from the journal
    // (the level is run again), as a level cut short while running is.
    private IReadOnlyList<ApiSampleRecord> DropPartLevels(IReadOnlyList<ApiSampleRecord> previous, LoadStudyMode mode, IReadOnlyList<double> levels)
    {
        var partial = levels
            .Select(load => (Load: load, Records: previous.Where(r => IsOfLevel(r, mode, load)).ToArray()))
            .Where(l => l.Records.Any(r => r.LevelRequests is { } n && n != l.Records.Length))
            .ToArray();
        if (partial.Length == 0)
        {
            return previous;
        }

        foreach (var (load, records) in partial)
        {
            _logger.LogWarning(
                "Level {Mode} {Load} is in the journal in part ({Found} of {Requests} requests; the run stopped while writing it): dropped, and run again.",
                mode, load, records.Length, records.Max(r => r.LevelRequests));
        }

        // Opened first for its checks alone: the journal of another run is refused before anything in it is touched.
        ApiSampleJournal.OpenAppend(_options.JournalPath, Header()).Dispose();
        ApiSampleJournal.RemoveRecords(_options.JournalPath, r => partial.Any(l => IsOfLevel(r, mode, l.Load)));
        return ApiSampleJournal.Read(_options.JournalPath);
    }

    /// <summary>Whether <paramref name="record"/> was measured at this level of a study of this mode.</summary>
    internal static bool IsOfLevel(ApiSampleRecord record, LoadStudyMode mode, double load)
        => mode == LoadStudyMode.RequestRate
            ? record.RequestRate is { } rate && rate.Equals(load)
            : record.RequestRate is null && record.Concurrency == (int)load;

    private ApiJournalHeader Header()
    {
        return ApiJournalHeader.For(_endpoint, _prompts.EncodingName, new ApiJournalPlan(_options.PromptTokens, _options.OutputTokens, 1, _options.ConcurrencyLevels ?? [], _options.Stream, _options.Seed)
        {
            RequestRates = _options.RequestRates is { Count: > 0 } rates ? rates : null,
            DurationSeconds = _options.Duration?.TotalSeconds,
            MaxRequestsPerLevel = _options.MaxRequestsPerLevel,
        });
    }

    // c workers, each sending its next request as soon as the previous one finished: c requests always in flight.
    private async Task<IReadOnlyList<ApiSampleRecord>> RunClosedLoopAsync(int levelIndex, int concurrency, LevelCounter counter, CancellationToken cancellationToken)
    {
        var clock = _options.TimeProvider;
        var start = clock.GetTimestamp();
        var records = new List<ApiSampleRecord>();
        var next = -1;
        var inFlight = new InFlight();

        async Task WorkerAsync()
        {
            // Yield first, so that an endpoint answering synchronously cannot serialise the workers.
            await Task.Yield();
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (_options.Duration is { } duration && clock.GetElapsedTime(start) >= duration)
                {
                    return;
                }

                var sequence = Interlocked.Increment(ref next);
                if (_options.MaxRequestsPerLevel is { } max && sequence >= max)
                {
                    return;
                }

                var prepared = Prepare(levelIndex, sequence, concurrency);
                var record = await SendAsync(prepared, concurrency, null, start, inFlight, cancellationToken).ConfigureAwait(false);
                lock (records)
                {
                    records.Add(record);
                }

                counter.Report(record);
            }
        }

        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => WorkerAsync())).ConfigureAwait(false);
        return records;
    }

    // Poisson arrivals: each request is sent at its scheduled time on the options' clock, whatever is still in flight.
    private async Task<IReadOnlyList<ApiSampleRecord>> RunPoissonAsync(int levelIndex, double rate, LevelCounter counter, CancellationToken cancellationToken)
    {
        var clock = _options.TimeProvider;
        var random = new Random(PoissonArrivals.LevelSeed(_options.Seed, levelIndex));
        var inFlight = new InFlight();
        var sent = new List<Task<ApiSampleRecord>>();
        var start = clock.GetTimestamp();
        var offset = 0.0;
        try
        {
            for (var sequence = 0; _options.MaxRequestsPerLevel is not { } max || sequence < max; sequence++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                offset += PoissonArrivals.NextInterarrivalSeconds(random, rate);
                if (_options.Duration is { } duration && offset >= duration.TotalSeconds)
                {
                    break;
                }

                var prepared = Prepare(levelIndex, sequence, 0);
                var wait = TimeSpan.FromSeconds(offset) - clock.GetElapsedTime(start);
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, clock, cancellationToken).ConfigureAwait(false);
                }

                sent.Add(SendAndReportAsync(prepared));
            }
        }
        finally
        {
            // Requests already sent are awaited even when cancelled, so none outlives the run.
            await Task.WhenAll(sent.Select(t => t.ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default))).ConfigureAwait(false);
        }

        return await Task.WhenAll(sent).ConfigureAwait(false);

        async Task<ApiSampleRecord> SendAndReportAsync(Prepared prepared)
        {
            var record = await SendAsync(prepared, 0, rate, start, inFlight, cancellationToken).ConfigureAwait(false);
            counter.Report(record);
            return record;
        }
    }

    private Prepared Prepare(int levelIndex, int sequence, int concurrency)
    {
        var (p, o) = _grid[sequence % _grid.Length];
        // The level is mixed into the prompt's seed, so that no two requests of the study share a cached prefix.
        var seedKey = new ApiRequestKey(p, o, sequence, concurrency, levelIndex + 1, _options.Stream);
        return new Prepared(p, o, sequence, _prompts.Create(p, seedKey.PromptSeed(_options.Seed)));
    }

    private async Task<ApiSampleRecord> SendAsync(Prepared prepared, int concurrency, double? rate, long levelStart, InFlight inFlight, CancellationToken cancellationToken)
    {
        var clock = _options.TimeProvider;
        var key = new ApiRequestKey(prepared.P, prepared.O, prepared.Sequence, concurrency, 0, _options.Stream);
        var request = new EndpointRequest(prepared.Prompt, prepared.O, _options.Stream);
        var startedUtc = clock.GetUtcNow();
        var offset = clock.GetElapsedTime(levelStart).TotalSeconds;
        var began = clock.GetTimestamp();
        var load = inFlight.Enter();
        var record = new ApiSampleRecord
        {
            PromptTokens = prepared.P,
            OutputTokens = prepared.O,
            Trial = prepared.Sequence,
            Concurrency = concurrency,
            Stream = _options.Stream,
            Status = ApiSampleStatus.Failed,
            StartedUtc = startedUtc,
            Endpoint = _endpoint.Description,
            Encoding = prepared.Prompt.EncodingName,
            InFlight = load,
            RequestRate = rate,
            LoadOffsetSeconds = offset,
        };
        EndpointException failure;
        try
        {
            using var timeout = new CancellationTokenSource(_options.RequestTimeout, clock);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
            try
            {
                var response = await _endpoint.SendAsync(request, linked.Token).ConfigureAwait(false);
                var issue = AnswerCheck.Find(key, response);
                return record with
                {
                    Status = issue is null ? ApiSampleStatus.Succeeded : ApiSampleStatus.Suspect,
                    Attempts = [new ApiAttempt(1, null, null, response.RuntimeSeconds, null, null, null)],
                    RuntimeSeconds = response.RuntimeSeconds,
                    TimeToFirstTokenSeconds = response.TimeToFirstTokenSeconds,
                    TimeToFirstContentTokenSeconds = response.TimeToFirstContentTokenSeconds,
                    InterTokenGapsSeconds = _options.Stream ? response.InterTokenGapsSeconds : null,
                    ReportedPromptTokens = response.ReportedPromptTokens,
                    ReportedOutputTokens = response.ReportedOutputTokens,
                    ReportedReasoningTokens = response.ReportedReasoningTokens,
                    CountMismatch = issue is null
                        && ((response.ReportedPromptTokens is { } rp && rp != prepared.P) || (response.ReportedOutputTokens is { } ro && ro != prepared.O)),
                    Issue = issue,
                    FinishReason = response.FinishReason,
                };
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            catch (OperationCanceledException ex)
            {
                // The profiler's timeout, or the endpoint cancelling by itself (e.g. an HttpClient with its own Timeout): a timeout either way.
                failure = EndpointException.FromCancellation(ex, timeout.IsCancellationRequested, _options.RequestTimeout);
            }
            catch (EndpointException ex)
            {
                failure = ex;
            }
        }
        finally
        {
            inFlight.Leave();
        }

        _logger.LogWarning("p={PromptTokens} o={OutputTokens} request {Sequence} failed: {Failure} {Message}", prepared.P, prepared.O, prepared.Sequence, failure.Kind, failure.Message);
        var elapsed = clock.GetElapsedTime(began).TotalSeconds;
        return record with { Attempts = [new ApiAttempt(1, failure.Kind, failure.StatusCode, elapsed, failure.RetryAfter?.TotalSeconds, null, failure.Message)] };
    }

    private sealed record Prepared(int P, int O, int Sequence, SyntheticPrompt Prompt);

    private sealed class InFlight
    {
        private int _count;

        public int Enter() => Interlocked.Increment(ref _count);

        public void Leave() => Interlocked.Decrement(ref _count);
    }

    private sealed class LevelCounter(int index, int levels, LoadStudyMode mode, double load, IProgress<LoadStudyProgress>? progress)
    {
        private readonly object _gate = new();
        private int _finished;
        private int _failed;

        public int Failed => Volatile.Read(ref _failed);

        // One report at a time, its counts taken together: requests of a level finish on many threads.
        public void Report(ApiSampleRecord record)
        {
            lock (_gate)
            {
                var failed = record.Status == ApiSampleStatus.Failed ? Interlocked.Increment(ref _failed) : Volatile.Read(ref _failed);
                var finished = Interlocked.Increment(ref _finished);
                progress?.Report(new LoadStudyProgress(index, levels, mode, load, finished, failed, record));
            }
        }
    }
}
