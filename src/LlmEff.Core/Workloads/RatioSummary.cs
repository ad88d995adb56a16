namespace LlmEff.Core.Workloads;

/// <summary>Summary of per-query ratios (speedups or cost ratios) of a <see cref="WorkloadComparison"/>.</summary>
/// <param name="Mean">Arithmetic mean.</param>
/// <param name="Median">Median (<see cref="Percentiles.Median"/>, the project's one percentile definition).</param>
/// <param name="Minimum">Smallest ratio.</param>
/// <param name="Maximum">Largest ratio.</param>
public sealed record RatioSummary(double Mean, double Median, double Minimum, double Maximum)
{
    /// <summary>Summarizes <paramref name="values"/>.</summary>
    /// <param name="values">At least one ratio.</param>
    /// <exception cref="ArgumentException"><paramref name="values"/> is empty.</exception>
    public static RatioSummary Of(IReadOnlyList<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count == 0)
        {
            throw new ArgumentException("A summary needs at least one value; the workload has no queries.", nameof(values));
        }

        return new RatioSummary(values.Average(), Percentiles.Median(values), values.Min(), values.Max());
    }
}
