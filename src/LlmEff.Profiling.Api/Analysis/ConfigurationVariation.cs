namespace LlmEff.Profiling.Api;

/// <summary>Spread of the trials of one configuration (paper Figure 5).</summary>
/// <param name="PromptTokens">Prompt size <c>p</c> (server-reported where given).</param>
/// <param name="OutputTokens">Output tokens <c>o</c> (server-reported where given).</param>
/// <param name="Trials">Successful trials.</param>
/// <param name="MinimumSeconds">Fastest trial: the denoised observation (§4.1).</param>
/// <param name="MeanSeconds">Mean over trials.</param>
/// <param name="StandardDeviationSeconds">Sample standard deviation (n − 1); NaN for one trial.</param>
/// <param name="MaximumSeconds">Slowest trial.</param>
public sealed record ConfigurationVariation(
    int PromptTokens,
    int OutputTokens,
    int Trials,
    double MinimumSeconds,
    double MeanSeconds,
    double StandardDeviationSeconds,
    double MaximumSeconds)
{
    /// <summary>Standard deviation over mean: the paper saw ~0.2 for most AI21 models and ~0.55 for J1-Grande (§3.5). NaN for one trial.</summary>
    public double CoefficientOfVariation => StandardDeviationSeconds / MeanSeconds;

    /// <summary>Slowest over fastest trial (the paper saw outliers up to 3×).</summary>
    public double MaximumOverMinimum => MaximumSeconds / MinimumSeconds;
}
