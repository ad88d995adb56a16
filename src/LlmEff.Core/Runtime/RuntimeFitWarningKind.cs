namespace LlmEff.Core;

/// <summary>What is not physical about a fitted <see cref="RuntimeModel"/>; see <see cref="RuntimeFitWarning"/>.</summary>
public enum RuntimeFitWarningKind
{
    /// <summary>The per-output-token time <c>g</c> (or <c>g0 + g1·i</c> somewhere in the profiled context) is zero or negative.</summary>
    NonPositiveDecodeTime,

    /// <summary>A prompt-encoding knot <c>PE(p)</c> is negative.</summary>
    NegativePromptEncoding,

    /// <summary>The fitted <c>t(p, o)</c>, before clamping at 0, is negative somewhere in the profiled range.</summary>
    NegativePrediction,

    /// <summary>The whole model's R² is below <see cref="RuntimeFitOptions.RSquaredWarningThreshold"/>.</summary>
    LowRSquared,
}
