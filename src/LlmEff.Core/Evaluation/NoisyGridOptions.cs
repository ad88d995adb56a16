namespace LlmEff.Core.Evaluation;

/// <summary>How <see cref="NoisyGrid"/> makes a measured grid noisier, to test designs and fits against louder hardware than the grid's own.</summary>
public sealed record NoisyGridOptions
{
    /// <summary>
    /// Factor on each configuration's measured standard deviation: the result has <c>NoiseScale × σ</c> per point, so
    /// <c>sqrt(NoiseScale² − 1) × σ</c> is added to the grid's runtime, which already carries <c>σ</c>. Default 3; at least 1.
    /// </summary>
    public double NoiseScale { get; init; } = 3;

    /// <summary>
    /// Standard deviation of a relative offset drawn once per prompt size and applied to its whole line
    /// (<c>t(p, o) × (1 + δ_p)</c>): per-prompt residuals that no shared decode model explains, as loud logs show.
    /// Default 0; between 0 and 0.5.
    /// </summary>
    public double PromptLineResidual { get; init; }

    /// <summary>
    /// Smallest standard deviation used per point, in seconds: logs round to a resolution (1 ms in the Megatron logs) and
    /// report 0 below it. Default 0.0005 (half a millisecond).
    /// </summary>
    public double MinimumStdDevSeconds { get; init; } = 0.0005;

    /// <summary>Seed of the draws: the same grid, options and seed give the same noisy grid.</summary>
    public int Seed { get; init; }

    internal void Validate()
    {
        if (!(NoiseScale >= 1) || !double.IsFinite(NoiseScale))
        {
            throw new ArgumentOutOfRangeException(nameof(NoiseScale), NoiseScale, "NoiseScale multiplies the measured standard deviation; give a finite value of at least 1 (1 keeps the grid's own noise).");
        }

        if (!(PromptLineResidual >= 0 && PromptLineResidual <= 0.5))
        {
            throw new ArgumentOutOfRangeException(nameof(PromptLineResidual), PromptLineResidual, "PromptLineResidual is a relative standard deviation between 0 and 0.5 (0.03 = 3%).");
        }

        if (!(MinimumStdDevSeconds >= 0) || !double.IsFinite(MinimumStdDevSeconds))
        {
            throw new ArgumentOutOfRangeException(nameof(MinimumStdDevSeconds), MinimumStdDevSeconds, "MinimumStdDevSeconds is a finite, non-negative number of seconds.");
        }
    }
}
