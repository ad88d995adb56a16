namespace LlmEff.Core.Planning;

/// <summary>What an adaptive profiling run gives: the fitted model and the fit's own estimate of its error where it did not measure.</summary>
/// <param name="Model">The model fitted on every sample of the run (non-physical fits kept; see <see cref="RuntimeModel.Warnings"/>).</param>
/// <param name="EstimatedHeldOutError">
/// Cross-validated estimate of the error at the candidate configurations not measured; null when the run is too small to
/// cross-validate (fewer than three prompt sizes, or no configuration above a prompt size's smallest output length).
/// </param>
/// <param name="UnmeasuredConfigurations">Candidate configurations the run did not measure.</param>
public sealed record PlanAssessment(RuntimeModel Model, ErrorSummary? EstimatedHeldOutError, int UnmeasuredConfigurations)
{
    /// <summary>
    /// The noise of one measurement, in seconds, read from configurations measured more than once (repeated anchors or
    /// trials; <see cref="CrossValidationReport.TrialNoiseSeconds"/>), which the estimate includes; 0 when none was.
    /// </summary>
    public double TrialNoiseSeconds { get; init; }

    /// <summary>
    /// Configurations the run measured more than once (<see cref="CrossValidationReport.RepeatedConfigurations"/>); 0 when
    /// none was, and then <see cref="TrialNoiseSeconds"/> is not a reading of the noise and the estimate leaves it out.
    /// </summary>
    public int RepeatedConfigurations { get; init; }

    /// <summary>
    /// Whether the budget was too small for <paramref name="targetP90"/>: the estimated p90 exceeds it, or there is no
    /// estimate at all (then nothing vouches for the model).
    /// </summary>
    /// <param name="targetP90">Required 90th-percentile relative error (0.02 = 2%).</param>
    public bool BudgetTooSmallFor(double targetP90)
    {
        if (!(targetP90 > 0) || !double.IsFinite(targetP90))
        {
            throw new ArgumentOutOfRangeException(nameof(targetP90), targetP90, "The target is a positive relative error (0.02 = 2%).");
        }

        return EstimatedHeldOutError is not { } e || e.P90 > targetP90;
    }

    /// <summary>
    /// Whether the run may stop for <paramref name="targetP90"/>: the noise of one measurement was read from a repeated one
    /// (<see cref="RepeatedConfigurations"/> above 0; without it the estimate leaves the noise out and reads low) and the
    /// estimated p90 is at or below the target. The stopping rule of <see cref="AdaptiveProfilingPlanner.TargetP90"/>.
    /// </summary>
    /// <param name="targetP90">Required 90th-percentile relative error (0.02 = 2%).</param>
    public bool MeetsTarget(double targetP90)
        => !BudgetTooSmallFor(targetP90) && RepeatedConfigurations > 0;
}
