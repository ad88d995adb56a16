using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace LlmEff.Profiling.Api;

/// <summary>
/// Profiles a black-box endpoint over a grid of prompt sizes, output lengths, trials and concurrency levels
/// (paper §3.5, Figures 5–6), journaling each request as it finishes, retrying transient failures, honouring a
/// budget, and resuming from its journal without repeating finished requests.
/// </summary>
public sealed partial class ApiProfiler
{
    private readonly IProfilingEndpoint _endpoint;
    private readonly SyntheticPromptFactory _prompts;
    private readonly ApiProfilingOptions _options;
    private readonly ILogger<ApiProfiler> _logger;

    /// <summary>Creates a profiler.</summary>
    /// <param name="endpoint">What to measure.</param>
    /// <param name="prompts">Builds the exact-size synthetic prompts (its encoding should match the model's).</param>
    /// <param name="options">Grid, trials, concurrency, retries, budget and journal.</param>
    /// <param name="logger">Receives retries, mismatches and the stop reason; never the API key.</param>
    public ApiProfiler(IProfilingEndpoint endpoint, SyntheticPromptFactory prompts, ApiProfilingOptions options, ILogger<ApiProfiler>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(prompts);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _endpoint = endpoint;
        _prompts = prompts;
        _options = options;
        _logger = logger ?? NullLogger<ApiProfiler>.Instance;
    }

    /// <summary>Runs (or resumes) the plan.</summary>
    /// <param name="progress">Receives a report after every finished request.</param>
    /// <param name="cancellationToken">Stops the run; finished requests stay journaled and a rerun resumes after them.</param>
    /// <exception cref="OperationCanceledException">The run was cancelled.</exception>
    public async Task<ApiProfilingResult> RunAsync(IProgress<ApiProfilingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var previous = ApiSampleJournal.Read(_options.JournalPath);
        // A suspect answer is finished too: the same server would answer the same way again.
        var finished = previous.Where(r => r.Status != ApiSampleStatus.Failed).Select(r => r.Key).ToHashSet();
        var budget = new BudgetTracker(_options.Budget);
        foreach (var record in previous)
        {
            var answered = record.Status != ApiSampleStatus.Failed;
            budget.AddHistory(record.Attempts.Count, answered ? record.EffectivePromptTokens : 0, answered ? record.EffectiveOutputTokens : 0);
            if (answered)
            {
                budget.ObserveExtra(record.EffectivePromptTokens - record.PromptTokens, record.EffectiveOutputTokens - record.OutputTokens);
            }
        }

        var state = new RunState(_options.PlannedRequests, budget, new Random(_options.Seed), progress);
        var stop = ProfilingStopReason.Completed;
        using (var journal = ApiSampleJournal.OpenAppend(_options.JournalPath, Header()))
        {
            _logger.LogInformation(
                "Profiling {Endpoint}: {Planned} planned requests, {Finished} already in {Journal}.",
                _endpoint.Description, _options.PlannedRequests, finished.Count, journal.Path);
            stop = _options.AdaptiveBudget is { } queries
                ? await RunAdaptiveAsync(queries, previous, finished, journal, state, cancellationToken).ConfigureAwait(false)
                : await RunGridAsync(finished, journal, state, cancellationToken).ConfigureAwait(false);
        }

        var usage = budget.Usage;
        if (stop == ProfilingStopReason.BudgetExhausted)
        {
            _logger.LogWarning(
                "Budget reached after {Requests} requests, {Tokens} tokens, ${Dollars}; stopped cleanly. Rerun with a larger budget to continue from the journal.",
                usage.Requests, usage.Tokens, usage.Dollars);
        }
        else if (stop == ProfilingStopReason.Unanswered)
        {
            _logger.LogWarning("An adaptive query got no usable answer (every trial failed or was suspect), so the planner cannot choose the next one; stopped. The attempts are journaled: rerun to retry that query.");
        }

        // A grid journal may hold more trials than this run asks for (one run added trials, a later one asks for fewer than
        // that but as many as the journal was begun with): the result is this run's plan.
        var records = ApiSampleJournal.Read(_options.JournalPath);
        if (_options.AdaptiveBudget is null)
        {
            records = records.Where(r => r.Trial < _options.Trials).ToList();
        }

        return new ApiProfilingResult
        {
            Records = records,
            Assessment = _options.AdaptiveBudget is null ? null : Assess(records, cancellationToken),
            StopReason = stop,
            AttemptsThisRun = state.Attempts,
            Skipped = state.Skipped,
            Failed = state.Failed,
            Suspect = state.Suspects,
            Usage = usage,
            JournalPath = Path.GetFullPath(_options.JournalPath),
        };
    }

    // What the journal must agree with before anything is appended to it.
    private ApiJournalHeader Header()
        => ApiJournalHeader.For(_endpoint, _prompts.EncodingName, new ApiJournalPlan(_options.PromptTokens, _options.OutputTokens, _options.Trials, _options.ConcurrencyLevels, _options.Stream, _options.Seed) { AdaptiveBudget = _options.AdaptiveBudget });

    private async Task<ProfilingStopReason> RunGridAsync(HashSet<ApiRequestKey> finished, ApiSampleJournal journal, RunState state, CancellationToken cancellationToken)
    {
        foreach (var (p, o, trial, concurrency) in Plan())
        {
            var pending = Enumerable.Range(0, concurrency)
                .Select(slot => new ApiRequestKey(p, o, trial, concurrency, slot, _options.Stream))
                .Where(key => !finished.Contains(key))
                .ToArray();
            state.Skip(concurrency - pending.Length);
            if (pending.Length == 0)
            {
                continue;
            }

            // A partial batch would measure a different load, so the whole batch must fit the budget.
            if (!state.Budget.CanAfford(pending.Length, p, o))
            {
                return ProfilingStopReason.BudgetExhausted;
            }

            var gate = new BatchGate(pending.Length);
            var results = await Task.WhenAll(pending.Select(key => ExecuteAsync(key, journal, state, gate, cancellationToken))).ConfigureAwait(false);
            if (results.Any(r => !r))
            {
                return ProfilingStopReason.BudgetExhausted;
            }
        }

        return ProfilingStopReason.Completed;
    }

    // Trials are the outer loop inside each concurrency level so that slow periods of a shared API spread over
    // all configurations instead of hitting every trial of one.
    private IEnumerable<(int P, int O, int Trial, int Concurrency)> Plan()
    {
        foreach (var concurrency in _options.ConcurrencyLevels)
        {
            for (var trial = 0; trial < _options.Trials; trial++)
            {
                foreach (var p in _options.PromptTokens)
                {
                    foreach (var o in _options.OutputTokens)
                    {
                        yield return (p, o, trial, concurrency);
                    }
                }
            }
        }
    }

    /// <returns>False when the budget refused an attempt (the run must stop).</returns>
    private async Task<bool> ExecuteAsync(ApiRequestKey key, ApiSampleJournal journal, RunState state, BatchGate gate, CancellationToken cancellationToken, Action<ApiSampleRecord>? finished = null)
    {
        var clock = _options.TimeProvider;
        SyntheticPrompt prompt;
        try
        {
            prompt = _prompts.Create(key.PromptTokens, key.PromptSeed(_options.Seed));
        }
        catch
        {
            gate.Abandon();
            throw;
        }

        var request = new EndpointRequest(prompt, key.OutputTokens, key.Stream);
        var attempts = new List<ApiAttempt>();
        var startedUtc = clock.GetUtcNow();

        // Every request of the batch is prepared before any is sent, so the first attempts really overlap.
        await gate.ArriveAsync(cancellationToken).ConfigureAwait(false);
        for (var number = 1; ; number++)
        {
            // A run cancelled before this attempt goes out sends nothing more; the attempts already made are journaled.
            if (cancellationToken.IsCancellationRequested)
            {
                if (attempts.Count > 0)
                {
                    journal.Append(Failed(key, attempts, startedUtc, prompt));
                }

                gate.Leave(number == 1);
                cancellationToken.ThrowIfCancellationRequested();
            }

            if (!state.Budget.TryBeginAttempt(key.PromptTokens, key.OutputTokens))
            {
                gate.Leave(number == 1);
                if (attempts.Count > 0)
                {
                    state.CountFailure(); // journaled as failed, so counted as failed
                    Finish(journal, state, Failed(key, attempts, startedUtc, prompt), finished);
                }

                return false;
            }

            state.CountAttempt();
            startedUtc = clock.GetUtcNow();
            var began = clock.GetTimestamp();
            var inFlight = gate.Send(number == 1);
            EndpointException failure;

            // The timeout runs on the options' clock, so a test (or a replay) decides when it fires, not the machine's load.
            using (var timeout = new CancellationTokenSource(_options.RequestTimeout, clock))
            using (var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token))
            {
                try
                {
                    var response = await _endpoint.SendAsync(request, linked.Token).ConfigureAwait(false);
                    gate.Done();
                    var record = Succeeded(key, response, attempts, number, startedUtc, prompt, inFlight);
                    state.Budget.EndAttempt(key.PromptTokens, key.OutputTokens, record.EffectivePromptTokens, record.EffectiveOutputTokens);
                    Finish(journal, state, record, finished);
                    return true;
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    gate.Done();
                    state.Budget.EndAttempt(key.PromptTokens, key.OutputTokens, 0, 0);
                    // The attempt was sent, and every attempt counts against the budget: journaled, a resumed run counts it.
                    attempts.Add(new ApiAttempt(number, EndpointFailureKind.Cancelled, null, clock.GetElapsedTime(began).TotalSeconds, null, null, "the run was cancelled while this attempt was in flight"));
                    journal.Append(Failed(key, attempts, startedUtc, prompt));
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

            gate.Done();
            state.Budget.EndAttempt(key.PromptTokens, key.OutputTokens, 0, 0);
            var elapsed = clock.GetElapsedTime(began).TotalSeconds;
            var retryAfter = failure.RetryAfter?.TotalSeconds;
            var retryable = failure.IsTransient && number < _options.Retry.MaxAttempts
                && (failure.RetryAfter is null || failure.RetryAfter <= _options.Retry.MaxRetryAfter);
            if (!retryable)
            {
                attempts.Add(new ApiAttempt(number, failure.Kind, failure.StatusCode, elapsed, retryAfter, null, failure.Message));
                _logger.LogError(
                    "p={PromptTokens} o={OutputTokens} trial={Trial} failed for good after {Attempts} attempts: {Failure} {Message}",
                    key.PromptTokens, key.OutputTokens, key.Trial, number, failure.Kind, failure.Message);
                state.CountFailure();
                Finish(journal, state, Failed(key, attempts, startedUtc, prompt), finished);
                return true;
            }

            var delay = _options.Retry.ComputeDelay(number, failure.RetryAfter, state.Random);
            attempts.Add(new ApiAttempt(number, failure.Kind, failure.StatusCode, elapsed, retryAfter, delay.TotalSeconds, failure.Message));
            _logger.LogWarning(
                "p={PromptTokens} o={OutputTokens} trial={Trial} attempt {Attempt}: {Failure} (HTTP {Status}): {Message}; retrying in {DelaySeconds:0.###} s.",
                key.PromptTokens, key.OutputTokens, key.Trial, number, failure.Kind, failure.StatusCode, failure.Message, delay.TotalSeconds);
            try
            {
                await Task.Delay(delay, clock, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // Cancelled before the retry: the attempts made are journaled, so a resumed run counts them; the last one's
                // scheduled retry delay tells the analysis the request was interrupted, not failed for good.
                journal.Append(Failed(key, attempts, startedUtc, prompt));
                throw;
            }
        }
    }

    private void Finish(ApiSampleJournal journal, RunState state, ApiSampleRecord record, Action<ApiSampleRecord>? finished)
    {
        journal.Append(record);
        finished?.Invoke(record);
        if (record.Issue is not null)
        {
            var level = state.CountSuspect() == 1 ? LogLevel.Warning : LogLevel.Debug;
            _logger.Log(
                level,
                "p={PromptTokens} o={OutputTokens} trial={Trial}: {Issue}; journaled as suspect and left out of the fit.",
                record.PromptTokens, record.OutputTokens, record.Trial, record.Issue);
        }
        else if (record.CountMismatch)
        {
            var level = state.CountMismatch() == 1 ? LogLevel.Warning : LogLevel.Debug;
            _logger.Log(
                level,
                "p={PromptTokens} o={OutputTokens}: the server reported {ReportedPrompt} prompt and {ReportedOutput} output tokens; kept, flagged and fitted with the reported counts.",
                record.PromptTokens, record.OutputTokens, record.ReportedPromptTokens, record.ReportedOutputTokens);
        }

        state.Report(record);
    }

    private ApiSampleRecord Succeeded(ApiRequestKey key, EndpointResponse response, List<ApiAttempt> attempts, int number, DateTimeOffset startedUtc, SyntheticPrompt prompt, int inFlight)
    {
        attempts.Add(new ApiAttempt(number, null, null, response.RuntimeSeconds, null, null, null));
        var issue = AnswerCheck.Find(key, response);
        var mismatch = issue is null
            && ((response.ReportedPromptTokens is { } rp && rp != key.PromptTokens)
                || (response.ReportedOutputTokens is { } ro && ro != key.OutputTokens));
        return Record(key, issue is null ? ApiSampleStatus.Succeeded : ApiSampleStatus.Suspect, attempts, startedUtc, prompt) with
        {
            RuntimeSeconds = response.RuntimeSeconds,
            TimeToFirstTokenSeconds = response.TimeToFirstTokenSeconds,
            TimeToFirstContentTokenSeconds = response.TimeToFirstContentTokenSeconds,
            InterTokenGapsSeconds = key.Stream ? response.InterTokenGapsSeconds : null,
            ReportedPromptTokens = response.ReportedPromptTokens,
            ReportedOutputTokens = response.ReportedOutputTokens,
            ReportedReasoningTokens = response.ReportedReasoningTokens,
            CountMismatch = mismatch,
            Issue = issue,
            InFlight = inFlight,
            FinishReason = response.FinishReason,
        };
    }

    private ApiSampleRecord Failed(ApiRequestKey key, List<ApiAttempt> attempts, DateTimeOffset startedUtc, SyntheticPrompt prompt) =>
        Record(key, ApiSampleStatus.Failed, attempts, startedUtc, prompt);

    // What every record says, measured or not: the request, its attempts and where it went.
    private ApiSampleRecord Record(ApiRequestKey key, ApiSampleStatus status, List<ApiAttempt> attempts, DateTimeOffset startedUtc, SyntheticPrompt prompt) => new()
    {
        PromptTokens = key.PromptTokens,
        OutputTokens = key.OutputTokens,
        Trial = key.Trial,
        Concurrency = key.Concurrency,
        Slot = key.Slot,
        Stream = key.Stream,
        Status = status,
        Attempts = attempts.ToArray(),
        StartedUtc = startedUtc,
        Endpoint = _endpoint.Description,
        Encoding = prompt.EncodingName,
    };
}
