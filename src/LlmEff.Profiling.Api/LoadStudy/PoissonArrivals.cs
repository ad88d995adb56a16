namespace LlmEff.Profiling.Api;

/// <summary>
/// Arrival times of a Poisson process, the open-loop load of a request-rate study: interarrival times are
/// exponential with mean <c>1 / rate</c>, drawn from a seeded generator so that a study can be repeated exactly.
/// </summary>
public static class PoissonArrivals
{
    /// <summary>The first <paramref name="count"/> arrival times, in seconds from the start of the level.</summary>
    /// <param name="requestsPerSecond">The arrival rate; finite and positive.</param>
    /// <param name="seed">Seed of the interarrival times (see <see cref="LevelSeed"/> for the seed of one level).</param>
    /// <param name="count">How many arrivals; non-negative.</param>
    public static IReadOnlyList<double> OffsetsSeconds(double requestsPerSecond, int seed, int count)
    {
        CheckRate(requestsPerSecond);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var random = new Random(seed);
        var offsets = new double[count];
        var t = 0.0;
        for (var i = 0; i < count; i++)
        {
            t += NextInterarrivalSeconds(random, requestsPerSecond);
            offsets[i] = t;
        }

        return offsets;
    }

    /// <summary>
    /// The seed of the arrivals of level <paramref name="levelIndex"/> in a study seeded with <paramref name="studySeed"/>:
    /// distinct per level, so that two rates do not share the same pattern scaled.
    /// </summary>
    public static int LevelSeed(int studySeed, int levelIndex)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(levelIndex);
        unchecked
        {
            var h = ((uint)studySeed * 0x9E3779B1u) ^ ((uint)(levelIndex + 1) * 0x85EBCA6Bu);
            h ^= h >> 15;
            return (int)(h & 0x7FFFFFFF);
        }
    }

    internal static double NextInterarrivalSeconds(Random random, double requestsPerSecond)
        => -Math.Log(1 - random.NextDouble()) / requestsPerSecond;

    internal static void CheckRate(double requestsPerSecond)
    {
        if (!double.IsFinite(requestsPerSecond) || requestsPerSecond <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(requestsPerSecond), requestsPerSecond, "The request rate must be a finite, positive number of requests per second, e.g. 2.5.");
        }
    }
}
