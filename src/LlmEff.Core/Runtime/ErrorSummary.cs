namespace LlmEff.Core;

/// <summary>Distribution of absolute relative errors |predicted − observed| / observed over a set of points.</summary>
/// <param name="Count">Points summarised.</param>
/// <param name="Median">Median absolute relative error (0.01 = 1%).</param>
/// <param name="P90">90th percentile, by linear interpolation between closest ranks (<see cref="Percentiles"/>).</param>
/// <param name="Max">Largest.</param>
/// <param name="RootMeanSquare">Root mean square of the relative errors.</param>
public sealed record ErrorSummary(int Count, double Median, double P90, double Max, double RootMeanSquare)
{
    /// <summary>Summarises absolute relative errors (signs are dropped).</summary>
    /// <exception cref="ArgumentException">No errors, or a non-finite one.</exception>
    public static ErrorSummary FromRelativeErrors(IEnumerable<double> relativeErrors)
    {
        ArgumentNullException.ThrowIfNull(relativeErrors);
        var sorted = relativeErrors.Select(Math.Abs).ToArray();
        if (sorted.Length == 0)
        {
            throw new ArgumentException("No errors to summarise; pass at least one point.", nameof(relativeErrors));
        }

        // Checked before sorting, so the index is the caller's (a NaN would also sort first and pass a look at the largest).
        var bad = Array.FindIndex(sorted, e => !double.IsFinite(e));
        if (bad >= 0)
        {
            throw new ArgumentException($"{nameof(relativeErrors)}[{bad}] is not finite; check for zero or missing observations.", nameof(relativeErrors));
        }

        Array.Sort(sorted);

        return new ErrorSummary(
            sorted.Length,
            Percentiles.OfSorted(sorted, 50),
            Percentiles.OfSorted(sorted, 90),
            sorted[^1],
            Math.Sqrt(sorted.Sum(e => e * e) / sorted.Length));
    }

    /// <summary>Errors of <paramref name="model"/> on measured samples (each sample as is; aggregate first if you want per-configuration errors).</summary>
    public static ErrorSummary Evaluate(RuntimeModel model, IEnumerable<ProfilingSample> samples)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(samples);
        return FromRelativeErrors(samples.Select(s => (model.Predict(s.PromptTokens, s.OutputTokens) - s.RuntimeSeconds) / s.RuntimeSeconds));
    }

    /// <inheritdoc />
    public override string ToString() => FormattableString.Invariant($"n = {Count}, median {Median:P2}, p90 {P90:P2}, max {Max:P2}");
}
