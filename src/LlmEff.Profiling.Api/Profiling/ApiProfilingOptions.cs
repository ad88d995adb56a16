
namespace LlmEff.Profiling.Api;

/// <summary>What an <see cref="ApiProfiler"/> run measures and how. Defaults follow the paper's grid (§3.4, Figure 6).</summary>
public sealed record ApiProfilingOptions
{
    /// <summary>Where every finished request is journaled (JSON lines); reopening it resumes the run. Required.</summary>
    public required string JournalPath { get; init; }

    /// <summary>Prompt sizes <c>p</c> in tokens. Default the paper's <c>{1, 256, 512, 1024, 1536}</c> (§3.4).</summary>
    public IReadOnlyList<int> PromptTokens { get; init; } = [1, 256, 512, 1024, 1536];

    /// <summary>Output lengths <c>o</c>; at least two distinct values per prompt size for the fit. Default <c>{1, 2, 4, 8, 16, 32, 64}</c>.</summary>
    public IReadOnlyList<int> OutputTokens { get; init; } = [1, 2, 4, 8, 16, 32, 64];

    /// <summary>
    /// Trials per configuration; the denoised fit takes their minimum. Default 10 (the paper's Figure 6). A grid run's journal
    /// resumes with as many trials or more (the new trials are sent, the recorded ones kept); an adaptive run's with the same.
    /// </summary>
    public int Trials { get; init; } = 10;

    /// <summary>Concurrent requests per batch, one pass over the grid per level (load study, Figure 6). Default <c>{1}</c>.</summary>
    public IReadOnlyList<int> ConcurrencyLevels { get; init; } = [1];

    /// <summary>
    /// Queries of an adaptive run, or null (default) to measure the whole grid. When set, LlmEff.Core's
    /// <see cref="LlmEff.Core.Planning.AdaptiveProfilingPlanner"/> chooses the configurations one at a time among
    /// <see cref="PromptTokens"/> × <see cref="OutputTokens"/> (the candidates), each measured <see cref="Trials"/> times at
    /// concurrency 1; with one trial a query, the planner's repeated anchors show the noise instead. Fit the records with
    /// <see cref="LlmEff.Core.Planning.AdaptiveProfilingPlanner.FitOptions"/>; <see cref="ApiProfilingResult.Assessment"/>
    /// holds the fit's own error estimate at the candidates not measured. At least 6; needs <see cref="ConcurrencyLevels"/> = {1}.
    /// </summary>
    public int? AdaptiveBudget { get; init; }

    /// <summary>
    /// An adaptive run's 90th-percentile relative error to stop at (0.02 = 2 %), or null (default) to spend the whole
    /// <see cref="AdaptiveBudget"/>. Before each new query the run is assessed on every answered request, trials included; once
    /// the noise of one request has been read from a repeated one and the estimated p90 is at or below this
    /// (<see cref="LlmEff.Core.Planning.PlanAssessment.MeetsTarget"/>), it stops with <see cref="ProfilingStopReason.TargetReached"/>.
    /// </summary>
    public double? AdaptiveTargetP90 { get; init; }

    /// <summary>Stream answers, recording time to first token and inter-token gaps. Default false.</summary>
    public bool Stream { get; init; }

    /// <summary>Time allowed for one attempt, end to end; a slower one counts as a timeout and is retried. Default 120 s.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>The longest <see cref="RequestTimeout"/> a timer can wait: 2³² − 2 milliseconds, about 49.7 days.</summary>
    public static readonly TimeSpan MaxRequestTimeout = TimeSpan.FromMilliseconds(uint.MaxValue - 1.0);

    /// <summary>Retries of transient failures. Default <see cref="RetryPolicy.Default"/>.</summary>
    public RetryPolicy Retry { get; init; } = RetryPolicy.Default;

    /// <summary>Spending caps over the whole journal. Default <see cref="ProfilingBudget.Unlimited"/>.</summary>
    public ProfilingBudget Budget { get; init; } = ProfilingBudget.Unlimited;

    /// <summary>Seed of the synthetic prompts and of the retry jitter. Default 0.</summary>
    public int Seed { get; init; }

    /// <summary>
    /// Clock of the request timeout, the retry waits (backoff and <c>Retry-After</c>), failed attempts' durations and
    /// the records' timestamps; a test passes a fake one so that a busy machine cannot race them. Runtimes themselves
    /// are measured by the endpoint on the real clock. Default <see cref="TimeProvider.System"/>.
    /// </summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>
    /// A load study as in the paper's Figure 6: one prompt size, several output lengths, the grid repeated at
    /// 1, 2, 4, ... up to <paramref name="maxConcurrency"/> concurrent requests.
    /// </summary>
    /// <param name="journalPath">The journal.</param>
    /// <param name="maxConcurrency">Highest concurrency; the levels are the powers of two up to it (and it, if not one).</param>
    /// <param name="promptTokens">The fixed prompt size. Default 512, as in Figure 6.</param>
    public static ApiProfilingOptions LoadStudy(string journalPath, int maxConcurrency, int promptTokens = 512)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxConcurrency, 1);
        return new ApiProfilingOptions
        {
            JournalPath = journalPath,
            PromptTokens = [promptTokens],
            OutputTokens = [1, 16, 32, 64],
            ConcurrencyLevels = PowersOfTwo(maxConcurrency),
        };
    }

    /// <summary>1, 2, 4, ... up to <paramref name="max"/>, with <paramref name="max"/> itself last.</summary>
    public static IReadOnlyList<int> PowersOfTwo(int max)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(max, 1);
        var levels = new List<int>();
        for (var c = 1; c < max; c *= 2)
        {
            levels.Add(c);
        }

        levels.Add(max);
        return levels;
    }

    /// <summary>Requests the plan holds: <c>Σ_c c · |P| · |O| · trials</c>.</summary>
    public long PlannedRequests => AdaptiveBudget is { } queries
        ? (long)queries * Trials
        : ConcurrencyLevels.Sum(c => (long)c) * PromptTokens.Count * OutputTokens.Count * Trials;

    internal void Validate()
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(JournalPath, nameof(JournalPath));
        CheckList(PromptTokens, nameof(PromptTokens), 0, "prompt sizes must be non-negative token counts", " and raise Trials for repeats");
        CheckList(OutputTokens, nameof(OutputTokens), 1, "output lengths must be at least 1 token", " and raise Trials for repeats");
        CheckList(ConcurrencyLevels, nameof(ConcurrencyLevels), 1, "concurrency levels must be at least 1", " and raise Trials for repeats");
        ArgumentOutOfRangeException.ThrowIfLessThan(Trials, 1, nameof(Trials));
        if (AdaptiveBudget is { } queries)
        {
            if (queries < 6)
            {
                throw new ArgumentOutOfRangeException(nameof(AdaptiveBudget), queries, "AdaptiveBudget counts the queries of an adaptive run; give at least 6 (the planner's seed: smallest, middle and largest prompt size at the smallest and largest output length).");
            }

            if (ConcurrencyLevels is not [1])
            {
                throw new ArgumentException($"An adaptive run measures one request at a time; ConcurrencyLevels is {string.Join(",", ConcurrencyLevels)}. Leave it at {{1}}, or drop AdaptiveBudget for a load study.", nameof(ConcurrencyLevels));
            }

            if (PromptTokens.Count < 2 || OutputTokens.Count < 2)
            {
                throw new ArgumentException($"An adaptive run chooses among candidate prompt sizes and output lengths; give at least two of each (here {PromptTokens.Count} and {OutputTokens.Count}).", nameof(PromptTokens));
            }
        }

        if (AdaptiveTargetP90 is { } target)
        {
            if (AdaptiveBudget is null)
            {
                throw new ArgumentException("AdaptiveTargetP90 stops an adaptive run; set AdaptiveBudget too (a grid run measures every configuration).", nameof(AdaptiveTargetP90));
            }

            if (!(target > 0 && target < 1))
            {
                throw new ArgumentOutOfRangeException(nameof(AdaptiveTargetP90), target, "Give the relative error to stop at as a fraction between 0 and 1 (0.02 for 2 %), or null to spend the whole budget.");
            }
        }

        CheckRequestTimeout(RequestTimeout);
        ArgumentNullException.ThrowIfNull(Retry, nameof(Retry));
        ArgumentNullException.ThrowIfNull(Budget, nameof(Budget));
        ArgumentNullException.ThrowIfNull(TimeProvider, nameof(TimeProvider));
        Retry.Validate();
        Budget.Validate();
    }

    /// <summary>The one check of a request timeout, for the profiler's options and the load study's alike.</summary>
    internal static void CheckRequestTimeout(TimeSpan requestTimeout)
    {
        if (requestTimeout <= TimeSpan.Zero || requestTimeout > MaxRequestTimeout)
        {
            throw new ArgumentOutOfRangeException(nameof(RequestTimeout), requestTimeout, "RequestTimeout must be positive and at most 49 days (the longest a .NET timer waits).");
        }
    }

    /// <summary>A candidate list's checks, shared by the profiling and load-study options: non-empty, every value at least <paramref name="min"/>, no value twice (<paramref name="repeatHint"/> ends that message).</summary>
    internal static void CheckList(IReadOnlyList<int>? values, string name, int min, string rule, string repeatHint = "")
    {
        if (values is null || values.Count == 0)
        {
            throw new ArgumentException($"{name} is empty; give at least one value ({rule}).", name);
        }

        foreach (var v in values)
        {
            if (v < min)
            {
                throw new ArgumentOutOfRangeException(name, v, $"{name} contains {v}: {rule}.");
            }
        }

        if (values.Distinct().Count() != values.Count)
        {
            throw new ArgumentException($"{name} lists a value twice ({string.Join(", ", values)}); give each once{repeatHint}.", name);
        }
    }
}
