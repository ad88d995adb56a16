namespace LlmEff.Core;

/// <summary>
/// Diagnostics of the first step of §3.4 for one prompt size: the least-squares line
/// <c>runtime = intercept + slope·(o − 1)</c>, whose intercept is the raw estimate of <c>PE(p)</c>.
/// </summary>
/// <param name="PromptTokens">The prompt size <c>p</c>.</param>
/// <param name="InterceptSeconds">Fitted intercept (seconds at <c>o = 1</c>), before any overhead is separated.</param>
/// <param name="SlopeSecondsPerToken">This prompt size's own per-output-token slope.</param>
/// <param name="RSquared">Coefficient of determination of this line (1 when it passes through every point).</param>
/// <param name="SampleCount">Points regressed (after trial aggregation).</param>
/// <param name="DistinctOutputLengths">Distinct output lengths among those points.</param>
/// <param name="Residuals">Each point against this line.</param>
public sealed record PromptSizeFit(
    int PromptTokens,
    double InterceptSeconds,
    double SlopeSecondsPerToken,
    double RSquared,
    int SampleCount,
    int DistinctOutputLengths,
    IReadOnlyList<SampleResidual> Residuals);
