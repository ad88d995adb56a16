namespace LlmEff.Core.Evaluation;

/// <summary>
/// The bar a design's held-out error is held to on one grid, relaxed where the grid itself is noisy: held-out p90 at most
/// the larger of a fixed p90 target and 1.25 × the floor's p90, and the maximum at most the larger of a fixed maximum and
/// 2 × the floor's maximum. The floor is the best error the runtime model's functional form reaches in-sample on the
/// whole grid (every configuration fitted, each fit option tried, the lowest kept): no design of the same form can do
/// much better than the grid's own noise and the form's misfit.
/// </summary>
/// <param name="Floor">In-sample error of the best full-grid fit.</param>
/// <param name="P90Bar">Largest held-out p90 that meets the bar.</param>
/// <param name="MaxBar">Largest held-out maximum that meets the bar.</param>
public sealed record AccuracyTarget(ErrorSummary Floor, double P90Bar, double MaxBar)
{
    /// <summary>Fixed p90 target on low-noise hardware (A100-class logs): 2%.</summary>
    public const double DefaultP90 = 0.02;

    /// <summary>Fixed maximum on low-noise hardware: 8%.</summary>
    public const double DefaultMax = 0.08;

    /// <summary>The bar for <paramref name="grid"/> with fixed targets <paramref name="p90"/> and <paramref name="max"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A target that is not a positive fraction, or a maximum below the p90.</exception>
    public static AccuracyTarget For(ProfilingGrid grid, double p90 = DefaultP90, double max = DefaultMax)
    {
        ArgumentNullException.ThrowIfNull(grid);
        if (!(p90 > 0 && p90 < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(p90), p90, "The p90 target is a fraction between 0 and 1 (0.02 = 2%).");
        }

        if (!(max > 0 && max < 10))
        {
            throw new ArgumentOutOfRangeException(nameof(max), max, "The maximum target is a positive fraction (0.08 = 8%).");
        }

        if (max < p90)
        {
            throw new ArgumentOutOfRangeException(nameof(max), max, FormattableString.Invariant($"The maximum target ({max:P1}) is below the p90 target ({p90:P1}), which no error set can meet both ways: give a maximum at least the p90."));
        }

        var floor = FullGridFloor(grid);
        return new AccuracyTarget(floor, Math.Max(p90, 1.25 * floor.P90), Math.Max(max, 2 * floor.Max));
    }

    /// <summary>Whether <paramref name="heldOut"/> meets both bars.</summary>
    public bool IsMetBy(ErrorSummary heldOut)
    {
        ArgumentNullException.ThrowIfNull(heldOut);
        return heldOut.P90 <= P90Bar && heldOut.Max <= MaxBar;
    }

    private static ErrorSummary FullGridFloor(ProfilingGrid grid)
    {
        // The fit options of every method the study compares; the floor keeps the lowest p90 and, separately, the lowest max.
        RuntimeFitOptions[] options = [new RuntimeFitOptions(), AccuracyStudy.LlmEffFixedDesignOptions, Planning.AdaptiveProfilingPlanner.FitOptions];
        var all = grid.All().ToList();
        var fits = new List<ErrorSummary>();
        foreach (var o in options)
        {
            try
            {
                fits.Add(ErrorSummary.Evaluate(RuntimeModel.Fit(all, o with { KeepNonPhysicalFit = true }), all));
            }
            catch (ArgumentException)
            {
                // A grid too small for this option's fit (e.g. two output lengths with an automatic decode model).
            }
        }

        if (fits.Count == 0)
        {
            throw new ArgumentException($"The grid '{grid.Name}' cannot be fitted as a whole; it needs at least two output lengths.", nameof(grid));
        }

        var best = fits.MinBy(f => f.P90)!;
        return best with { Max = fits.Min(f => f.Max) };
    }
}
