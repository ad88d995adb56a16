namespace LlmEff.Core.Metrics;

/// <summary>
/// An objective combining capability and an efficiency metric into one score, higher is better (§5.4, Figure 10).
/// Built-ins: <see cref="AccuracyPerRuntime"/> (<c>f₁</c>) and <see cref="AccuracyPerLogRuntime"/> (<c>f₂</c>);
/// pass your own with <see cref="Create"/>.
/// </summary>
public sealed class RankingObjective
{
    private readonly Func<double, double, double> _score;

    private RankingObjective(string name, Func<double, double, double> score)
    {
        Name = name;
        _score = score;
    }

    /// <summary>The objective's name, e.g. <c>accuracy / runtime</c>.</summary>
    public string Name { get; }

    /// <summary><c>f₁(accuracy, runtime) = accuracy / runtime</c>. Runtimes must be positive.</summary>
    public static RankingObjective AccuracyPerRuntime { get; } = new("accuracy / runtime", (accuracy, runtime) =>
    {
        if (runtime <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(runtime), runtime, "accuracy / runtime needs a positive runtime.");
        }

        return accuracy / runtime;
    });

    /// <summary>
    /// <c>f₂(accuracy, runtime) = accuracy / ln(runtime / unit)</c>. The paper writes <c>accuracy / log(runtime)</c> without
    /// a unit; in seconds, <c>ln t &lt; 0</c> for <c>t &lt; 1 s</c> (most idealized runtimes), which flips the sign and
    /// ranks more accurate models lower, and <c>t = 1 s</c> divides by zero. So the runtime is measured in
    /// <paramref name="runtimeUnitSeconds"/> (default 1 ms, so <c>ln</c> is positive for any runtime above 1 ms) and
    /// runtimes at or below one unit are rejected rather than silently mis-ranked.
    /// </summary>
    /// <param name="runtimeUnitSeconds">The unit runtimes are expressed in before taking the log; positive.</param>
    public static RankingObjective AccuracyPerLogRuntime(double runtimeUnitSeconds = 0.001)
    {
        if (!double.IsFinite(runtimeUnitSeconds) || runtimeUnitSeconds <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(runtimeUnitSeconds), runtimeUnitSeconds, "The runtime unit must be a positive number of seconds, e.g. 0.001 for milliseconds.");
        }

        return new(FormattableString.Invariant($"accuracy / ln(runtime / {runtimeUnitSeconds:G4} s)"), (accuracy, runtime) =>
        {
            if (runtime <= runtimeUnitSeconds)
            {
                throw new ArgumentOutOfRangeException(nameof(runtime), runtime, FormattableString.Invariant($"accuracy / ln(runtime / unit) needs runtime > unit = {runtimeUnitSeconds:G4} s (else the log is <= 0); choose a smaller runtime unit."));
            }

            return accuracy / Math.Log(runtime / runtimeUnitSeconds);
        });
    }

    /// <summary>A user-supplied objective: <paramref name="score"/>(capability, efficiency metric), higher is better.</summary>
    public static RankingObjective Create(string name, Func<double, double, double> score)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(score);
        return new(name, score);
    }

    /// <summary>Scores one point.</summary>
    /// <exception cref="ArgumentException">The objective returns NaN.</exception>
    public double Score(double capability, double efficiencyMetric)
    {
        var s = _score(capability, efficiencyMetric);
        if (double.IsNaN(s))
        {
            throw new ArgumentException(FormattableString.Invariant($"Objective '{Name}' returned NaN for capability {capability}, metric {efficiencyMetric}."), nameof(capability));
        }

        return s;
    }

    /// <inheritdoc />
    public override string ToString() => Name;
}
