namespace LlmEff.Core;

/// <summary>
/// How the fixed per-request overhead of a black-box API (paper §3.5,
/// <c>t = PE(p) + (o-1)·g + overhead</c>) is separated from prompt encoding.
/// </summary>
/// <remarks>
/// Overhead and <c>PE(p)</c> are not identifiable from samples at positive prompt sizes alone:
/// adding any constant to every <c>PE(p)</c> and subtracting it from the overhead fits equally well.
/// LlmEff therefore folds the overhead into <c>PE</c> unless the caller supplies information that
/// pins it down: samples at a zero-token prompt (where <c>PE(0) = 0</c> by definition) or a known value.
/// </remarks>
public enum OverheadMode
{
    /// <summary>No separate overhead: <c>PE(p)</c> absorbs it and <see cref="RuntimeModel.OverheadSeconds"/> is 0.</summary>
    None = 0,

    /// <summary>
    /// The overhead is the fitted intercept at <c>p = 0</c>; samples with <c>PromptTokens = 0</c> are required.
    /// Every other <c>PE(p)</c> knot is its intercept minus that overhead, and <c>PE(0) = 0</c>.
    /// </summary>
    ZeroPromptAnchor = 1,

    /// <summary>The overhead is <see cref="RuntimeFitOptions.FixedOverheadSeconds"/> (e.g. a measured round trip), subtracted from every intercept.</summary>
    Fixed = 2,
}
