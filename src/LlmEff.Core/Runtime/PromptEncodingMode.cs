namespace LlmEff.Core;

/// <summary>How <c>PE(p)</c> is read off the knots.</summary>
public enum PromptEncodingMode
{
    /// <summary>Linear interpolation between knots, nearest-segment extrapolation outside (LlmEff's default, paper §3.4).</summary>
    Interpolate = 0,

    /// <summary>
    /// HELM's estimator, for compatibility with its efficiency tables: take the smallest knot <c>k ≥ p</c> and scale
    /// its value by <c>p / k</c> (above the largest knot, scale the largest). Discontinuous at every knot and proportional
    /// to <c>p</c> below the first knot above 1, so a 2-token prompt after a table keyed {1, 256, ...} costs <c>PE(256)·2/256</c>.
    /// </summary>
    HelmNextKeyScaled = 1,
}
