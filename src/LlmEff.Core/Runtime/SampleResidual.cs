namespace LlmEff.Core;

/// <summary>An observation used in a fit next to what the fitted line or model predicts for it.</summary>
/// <param name="PromptTokens">Prompt size in tokens.</param>
/// <param name="OutputTokens">Output tokens.</param>
/// <param name="ObservedSeconds">The (aggregated) runtime the fit saw.</param>
/// <param name="PredictedSeconds">The fitted value.</param>
public readonly record struct SampleResidual(int PromptTokens, int OutputTokens, double ObservedSeconds, double PredictedSeconds)
{
    /// <summary>Observed minus predicted, in seconds.</summary>
    public double ResidualSeconds => ObservedSeconds - PredictedSeconds;

    /// <summary>Residual relative to the observation: (observed − predicted) / observed.</summary>
    public double RelativeError => (ObservedSeconds - PredictedSeconds) / ObservedSeconds;
}
