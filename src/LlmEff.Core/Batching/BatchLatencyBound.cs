namespace LlmEff.Core.Batching;

/// <summary>What a batch's latency may be: a bound on the time per output token, on the end-to-end runtime, or both; no bound when both are null.</summary>
public sealed record BatchLatencyBound
{
    /// <summary>No latency bound: only memory limits the batch.</summary>
    public static BatchLatencyBound None { get; } = new();

    /// <summary>Largest mean time between output tokens of a query, in seconds (<see cref="BatchedRuntimePrediction.TimePerOutputTokenSeconds"/>); null for no bound.</summary>
    public double? MaxTimePerOutputTokenSeconds { get; init; }

    /// <summary>Largest end-to-end runtime of a query (the whole batch's), in seconds; null for no bound.</summary>
    public double? MaxEndToEndSeconds { get; init; }

    /// <summary>True when <paramref name="prediction"/> meets every bound set.</summary>
    public bool IsMetBy(BatchedRuntimePrediction prediction)
    {
        ArgumentNullException.ThrowIfNull(prediction);
        return (MaxTimePerOutputTokenSeconds is not { } tpot || prediction.TimePerOutputTokenSeconds <= tpot)
            && (MaxEndToEndSeconds is not { } e2e || prediction.BatchSeconds <= e2e);
    }

    /// <summary>Checks that each bound set is finite and positive; throws naming the offending one.</summary>
    /// <returns>This instance, for chaining.</returns>
    public BatchLatencyBound Validate()
    {
        if (MaxTimePerOutputTokenSeconds is { } t && !(double.IsFinite(t) && t > 0))
        {
            throw new ArgumentOutOfRangeException(nameof(MaxTimePerOutputTokenSeconds), t, "A time per output token bound is a finite, positive number of seconds (e.g. 0.05), or null for none.");
        }

        if (MaxEndToEndSeconds is { } e && !(double.IsFinite(e) && e > 0))
        {
            throw new ArgumentOutOfRangeException(nameof(MaxEndToEndSeconds), e, "An end-to-end latency bound is a finite, positive number of seconds (e.g. 10), or null for none.");
        }

        return this;
    }

    /// <inheritdoc />
    public override string ToString() => FormattableString.Invariant(
        $"{(MaxTimePerOutputTokenSeconds is { } t ? FormattableString.Invariant($"TPOT <= {t * 1e3:G4} ms") : "no TPOT bound")}, {(MaxEndToEndSeconds is { } e ? FormattableString.Invariant($"end-to-end <= {e:G4} s") : "no end-to-end bound")}");
}
