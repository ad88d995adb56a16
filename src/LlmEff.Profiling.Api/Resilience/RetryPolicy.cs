namespace LlmEff.Profiling.Api;

/// <summary>
/// Retries of transient failures (429, 5xx, timeouts, dropped connections, malformed answers): exponential
/// backoff with jitter drawn from the run's seeded random source, never shorter than the server's <c>Retry-After</c>.
/// </summary>
public sealed record RetryPolicy
{
    /// <summary>Shared default instance.</summary>
    public static RetryPolicy Default { get; } = new();

    /// <summary>Attempts per request, the first included. Default 6.</summary>
    public int MaxAttempts { get; init; } = 6;

    /// <summary>Backoff before the first retry, before jitter. Default 1 s.</summary>
    public TimeSpan InitialDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Upper bound of the exponential backoff. Default 60 s.</summary>
    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Growth factor of the backoff per retry. Default 2.</summary>
    public double BackoffMultiplier { get; init; } = 2;

    /// <summary>
    /// Fraction of each backoff that is random: the wait is uniform in <c>[(1 − j)·d, d]</c>, so that concurrent
    /// requests spread out instead of retrying in lockstep. Default 0.5.
    /// </summary>
    public double JitterFraction { get; init; } = 0.5;

    /// <summary>The longest <c>Retry-After</c> honoured; a server asking for more fails the request. Default 5 minutes.</summary>
    public TimeSpan MaxRetryAfter { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>The wait before retry number <paramref name="retry"/> (1 for the first retry).</summary>
    /// <param name="retry">1-based retry number.</param>
    /// <param name="retryAfter">The server's <c>Retry-After</c>, if any: the wait is at least this long.</param>
    /// <param name="random">The seeded random source of the run.</param>
    public TimeSpan ComputeDelay(int retry, TimeSpan? retryAfter, Random random)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(retry, 1);
        ArgumentNullException.ThrowIfNull(random);
        var exponent = Math.Min(retry - 1, 62);
        var backoffSeconds = Math.Min(MaxDelay.TotalSeconds, InitialDelay.TotalSeconds * Math.Pow(BackoffMultiplier, exponent));
        double u;
        lock (random)
        {
            u = random.NextDouble();
        }

        var jittered = backoffSeconds * (1 - JitterFraction + (JitterFraction * u));
        var seconds = retryAfter is { } after ? Math.Max(jittered, after.TotalSeconds) : jittered;
        return TimeSpan.FromSeconds(seconds);
    }

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxAttempts, 1, nameof(MaxAttempts));
        if (InitialDelay < TimeSpan.Zero || MaxDelay < InitialDelay)
        {
            throw new ArgumentOutOfRangeException(nameof(InitialDelay), InitialDelay, $"Need 0 <= InitialDelay <= MaxDelay ({MaxDelay}).");
        }

        if (!double.IsFinite(BackoffMultiplier) || BackoffMultiplier < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(BackoffMultiplier), BackoffMultiplier, "BackoffMultiplier must be at least 1 (2 doubles the wait each retry).");
        }

        if (!double.IsFinite(JitterFraction) || JitterFraction is < 0 or > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(JitterFraction), JitterFraction, "JitterFraction must lie in [0, 1].");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(MaxRetryAfter, TimeSpan.Zero, nameof(MaxRetryAfter));
    }
}
