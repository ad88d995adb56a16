namespace LlmEff.Core;

/// <summary>
/// A fit's own estimate of its error, from the samples it was fitted on (no extra profiling).
/// </summary>
/// <param name="LeaveOnePromptSizeOut">
/// Each interior profiled prompt size in turn is left out, the model refitted and its points predicted: the error of
/// interpolating <c>PE</c> at prompt sizes that were not profiled. Null when fewer than three prompt sizes were profiled.
/// End points are not left out: that would measure extrapolation, which predictions inside the profiled range never do.
/// </param>
/// <param name="LeaveOneOutputLengthOut">
/// Each output length in turn is left out everywhere and predicted: the error of the decode model at unprofiled output
/// lengths. Null when fewer than three distinct output lengths were profiled.
/// </param>
/// <param name="LeaveOneConfigurationOut">
/// Each configuration above its prompt size's smallest profiled output length is left out alone and predicted: the error
/// at unprofiled configurations of profiled prompt sizes. The smallest-output configuration stays in every fold because it
/// anchors <c>PE(p)</c>, as it does for any unprofiled configuration of that prompt size. Null when no such configuration exists.
/// </param>
public sealed record CrossValidationReport(ErrorSummary? LeaveOnePromptSizeOut, ErrorSummary? LeaveOneOutputLengthOut, ErrorSummary? LeaveOneConfigurationOut)
{
    internal IReadOnlyList<double> PromptFoldErrors { get; init; } = [];

    internal IReadOnlyList<double> ConfigurationFoldErrors { get; init; } = [];

    /// <summary>Every fold's points pooled (whichever folds exist); null when none could be computed.</summary>
    public ErrorSummary? Combined { get; init; }

    /// <summary>
    /// Expected error at configurations that were not profiled, when a share <paramref name="shareAtUnprofiledPromptSizes"/>
    /// of them lies at prompt sizes that were never profiled (interpolated <c>PE</c>: leave-one-prompt-size-out errors) and
    /// the rest at profiled prompt sizes (leave-one-configuration-out errors). The two error sets are mixed with those
    /// weights, and the median and 90th percentile are <see cref="Percentiles.Weighted"/> of them (equal weights give
    /// <see cref="Percentiles.Of"/>). Null when a needed fold set is empty.
    /// </summary>
    /// <param name="shareAtUnprofiledPromptSizes">Between 0 and 1.</param>
    public ErrorSummary? EstimateHeldOutError(double shareAtUnprofiledPromptSizes)
    {
        if (!(shareAtUnprofiledPromptSizes >= 0 && shareAtUnprofiledPromptSizes <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(shareAtUnprofiledPromptSizes), shareAtUnprofiledPromptSizes, "The share is a fraction between 0 and 1.");
        }

        var share = shareAtUnprofiledPromptSizes;
        if ((share > 0 && PromptFoldErrors.Count == 0) || (share < 1 && ConfigurationFoldErrors.Count == 0))
        {
            return null;
        }

        var weighted = PromptFoldErrors.Select(e => (Error: Math.Abs(e), Weight: share / Math.Max(1, PromptFoldErrors.Count)))
            .Concat(ConfigurationFoldErrors.Select(e => (Error: Math.Abs(e), Weight: (1 - share) / Math.Max(1, ConfigurationFoldErrors.Count))))
            .Where(x => x.Weight > 0)
            .OrderBy(x => x.Error)
            .ToArray();
        var errors = weighted.Select(x => x.Error).ToArray();
        var weights = weighted.Select(x => x.Weight).ToArray();
        var rms = Math.Sqrt(weighted.Sum(x => x.Weight * x.Error * x.Error) / weights.Sum());
        return new ErrorSummary(weighted.Length, Percentiles.Weighted(errors, weights, 50), Percentiles.Weighted(errors, weights, 90), weighted[^1].Error, rms);
    }
}
