namespace LlmEff.Core.Energy;

/// <summary>How <see cref="EnergyModel.Fit"/> regresses measured energies. Every property has a documented default.</summary>
public sealed record EnergyFitOptions
{
    /// <summary>The defaults: minimum over trials, interpolated prompt-encoding knots, two output lengths per sweep, warn below R² 0.95.</summary>
    public static EnergyFitOptions Default { get; } = new();

    /// <summary>How repeated trials of one (p, o) combine before regressing. Default <see cref="TrialAggregation.Minimum"/>, as for runtime.</summary>
    public TrialAggregation Aggregation { get; init; } = TrialAggregation.Minimum;

    /// <summary>
    /// Shape of the prompt-encoding energy curve between the profiled prompt sizes. Default
    /// <see cref="PromptEncodingShape.Interpolate"/> (through each prompt size's intercept, as the runtime model's PE).
    /// </summary>
    public PromptEncodingShape PromptEncodingShape { get; init; } = PromptEncodingShape.Interpolate;

    /// <summary>Distinct output lengths a prompt size needs to take part in the per-token regression. Default 2, at least 2.</summary>
    public int MinimumDistinctOutputLengths { get; init; } = 2;

    /// <summary>
    /// Whether prompt sizes measured at one output length take part (their energy-encoding knot then rests on the shared
    /// per-token energy), as an adaptive profiling run measures most prompt sizes. Default false: every prompt size needs
    /// <see cref="MinimumDistinctOutputLengths"/> (the paper's grid); the runtime fit's <see cref="RuntimeFitOptions.AllowSingleOutputLength"/> likewise.
    /// </summary>
    public bool AllowSingleOutputLength { get; init; }

    /// <summary>
    /// R² below which the fit logs a warning. Default 0.95: lower than the runtime fit's 0.99 because an energy counter that
    /// updates every ~100 ms quantises short queries.
    /// </summary>
    public double RSquaredWarningThreshold { get; init; } = 0.95;

    /// <summary>Checks the options, naming the property and the fix.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A property is out of range.</exception>
    public void Validate()
    {
        if (!Enum.IsDefined(Aggregation))
        {
            throw new ArgumentOutOfRangeException(nameof(Aggregation), Aggregation, "Use a TrialAggregation value such as TrialAggregation.Minimum.");
        }

        if (!Enum.IsDefined(PromptEncodingShape))
        {
            throw new ArgumentOutOfRangeException(nameof(PromptEncodingShape), PromptEncodingShape, "Use PromptEncodingShape.Interpolate or PromptEncodingShape.Monotone.");
        }

        if (MinimumDistinctOutputLengths < 2)
        {
            throw new ArgumentOutOfRangeException(nameof(MinimumDistinctOutputLengths), MinimumDistinctOutputLengths, "A per-token slope needs two or more output lengths; use 2 or more.");
        }

        if (!double.IsFinite(RSquaredWarningThreshold) || RSquaredWarningThreshold > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(RSquaredWarningThreshold), RSquaredWarningThreshold, "Use a finite R² threshold of at most 1 (e.g. 0.95).");
        }
    }
}
