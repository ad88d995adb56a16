namespace LlmEff.Profiling.Api;

/// <summary>
/// What a <see cref="LoadStudyProfiler"/> run measures: a sweep over concurrency levels (closed loop) or request
/// rates (Poisson arrivals, open loop), each level capped by a duration, a request count or both.
/// </summary>
public sealed record LoadStudyOptions
{
    /// <summary>The most requests in flight a concurrency level may ask for.</summary>
    public const int MaximumConcurrency = 10_000;

    /// <summary>Where every request is journaled (JSON lines); reopening it resumes after the last finished level. Required.</summary>
    public required string JournalPath { get; init; }

    /// <summary>Prompt sizes <c>p</c>; request <c>i</c> of a level takes configuration <c>i mod (|P|·|O|)</c> of the grid. Default <c>{512}</c>.</summary>
    public IReadOnlyList<int> PromptTokens { get; init; } = [512];

    /// <summary>Output lengths <c>o</c> asked for (exactly, see <see cref="OpenAiEndpointOptions.SendMinTokens"/>). Default <c>{64}</c>.</summary>
    public IReadOnlyList<int> OutputTokens { get; init; } = [64];

    /// <summary>Concurrency levels (closed loop), e.g. <c>{1, 2, 4, 8, 16}</c>; set this or <see cref="RequestRates"/>.</summary>
    public IReadOnlyList<int>? ConcurrencyLevels { get; init; }

    /// <summary>Request rates in requests per second (Poisson arrivals); set this or <see cref="ConcurrencyLevels"/>.</summary>
    public IReadOnlyList<double>? RequestRates { get; init; }

    /// <summary>How long each level sends new requests (those in flight then are awaited); null for no time cap.</summary>
    public TimeSpan? Duration { get; init; }

    /// <summary>Requests sent per level; null for no count cap. At least one of this and <see cref="Duration"/> is required.</summary>
    public int? MaxRequestsPerLevel { get; init; }

    /// <summary>Stream answers, which time to first token, inter-token latency and TPOT need. Default true.</summary>
    public bool Stream { get; init; } = true;

    /// <summary>Seed of the prompts and the Poisson arrivals. Default 0.</summary>
    public int Seed { get; init; }

    /// <summary>Time allowed for one request; a slower one is journaled as failed (a load study does not retry). Default 120 s.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>
    /// Clock of the arrivals, the level durations, the request timeout and the records' timestamps and offsets; a test
    /// passes a fake one so that the schedule never races the machine. Default <see cref="TimeProvider.System"/>.
    /// </summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Concurrency or request rate, by which list is set.</summary>
    public LoadStudyMode Mode => RequestRates is { Count: > 0 } ? LoadStudyMode.RequestRate : LoadStudyMode.Concurrency;

    /// <summary>The levels in order: concurrency levels, or request rates in requests per second.</summary>
    public IReadOnlyList<double> Levels => Mode == LoadStudyMode.RequestRate ? RequestRates! : (ConcurrencyLevels ?? []).Select(c => (double)c).ToArray();

    internal void Validate()
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(JournalPath, nameof(JournalPath));
        ApiProfilingOptions.CheckList(PromptTokens, nameof(PromptTokens), 0, "prompt sizes must be non-negative token counts");
        ApiProfilingOptions.CheckList(OutputTokens, nameof(OutputTokens), 1, "output lengths must be at least 1 token");
        var hasConcurrency = ConcurrencyLevels is { Count: > 0 };
        var hasRates = RequestRates is { Count: > 0 };
        if (hasConcurrency == hasRates)
        {
            throw new ArgumentException(
                hasConcurrency
                    ? "Both ConcurrencyLevels and RequestRates are set; a study sweeps one of them, so run two studies."
                    : "Neither ConcurrencyLevels nor RequestRates is set; give the levels to sweep, e.g. ConcurrencyLevels = [1, 2, 4, 8].",
                nameof(ConcurrencyLevels));
        }

        if (hasConcurrency)
        {
            ApiProfilingOptions.CheckList(ConcurrencyLevels, nameof(ConcurrencyLevels), 1, "concurrency levels must be at least 1 request in flight");
            if (ConcurrencyLevels!.Max() is var highest && highest > MaximumConcurrency)
            {
                throw new ArgumentOutOfRangeException(nameof(ConcurrencyLevels), highest, $"ConcurrencyLevels: at most {MaximumConcurrency} requests in flight.");
            }
        }
        else
        {
            foreach (var rate in RequestRates!)
            {
                if (!double.IsFinite(rate) || rate <= 0)
                {
                    throw new ArgumentOutOfRangeException(nameof(RequestRates), rate, $"RequestRates contains {rate}: give finite, positive requests per second, e.g. 0.5, 1, 2.");
                }
            }

            if (RequestRates.Distinct().Count() != RequestRates.Count)
            {
                throw new ArgumentException($"RequestRates lists a rate twice ({string.Join(", ", RequestRates)}); give each once.", nameof(RequestRates));
            }
        }

        if (Duration is null && MaxRequestsPerLevel is null)
        {
            throw new ArgumentException("A level needs an end: set Duration, MaxRequestsPerLevel or both.", nameof(Duration));
        }

        if (Duration is { } d && d <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(Duration), d, "Duration must be positive, e.g. 60 s per level.");
        }

        if (MaxRequestsPerLevel is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxRequestsPerLevel), MaxRequestsPerLevel, "MaxRequestsPerLevel must be at least 1.");
        }

        ApiProfilingOptions.CheckRequestTimeout(RequestTimeout);
        ArgumentNullException.ThrowIfNull(TimeProvider, nameof(TimeProvider));
    }
}
