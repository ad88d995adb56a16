using System.Globalization;
using LlmEff.Core.Planning;

namespace LlmEff.Cli.Commands;

/// <summary>The line an adaptive run ends with: the fit's own estimate at the candidates it did not measure, and whether it read the noise.</summary>
internal static class AdaptiveEstimateLine
{
    /// <param name="assessment">The run's fit and estimate.</param>
    /// <param name="measurement">What one measurement is called here ("request" for an endpoint, "query" for a model).</param>
    public static string Describe(PlanAssessment assessment, string measurement)
    {
        // Without a repeated measurement the noise is unread, not 0: say so instead of printing 0.00 ms.
        var noise = assessment.RepeatedConfigurations > 0
            ? string.Create(CultureInfo.InvariantCulture, $"one {measurement}'s noise, read from {assessment.RepeatedConfigurations} repeated queries: {assessment.TrialNoiseSeconds * 1e3:F2} ms")
            : $"no query was measured twice, so it leaves out the noise of one {measurement} and may read low (give --trials 2, or an --adaptive budget that anchors every prompt size and then repeats)";
        return assessment.EstimatedHeldOutError is { } e
            ? string.Create(CultureInfo.InvariantCulture, $"adaptive: the fit's own estimate at the {assessment.UnmeasuredConfigurations} candidates not measured: median {e.Median:P2}, p90 {e.P90:P2}; {noise}")
            : $"adaptive: {assessment.UnmeasuredConfigurations} candidates not measured, and too few queries to estimate the error there (cross-validation needs three prompt sizes and a sweep); raise --adaptive.";
    }
}
