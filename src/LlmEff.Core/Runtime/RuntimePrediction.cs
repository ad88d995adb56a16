namespace LlmEff.Core;

/// <summary>A prediction of <see cref="RuntimeModel"/> broken into its terms, with a flag for extrapolation.</summary>
/// <param name="PromptTokens">Prompt size <c>p</c>.</param>
/// <param name="OutputTokens">Output tokens <c>o</c>.</param>
/// <param name="PromptEncodingSeconds"><c>PE(p)</c>.</param>
/// <param name="GenerationSeconds"><c>(o − 1)·g</c>.</param>
/// <param name="OverheadSeconds">The fixed API overhead (0 for idealized models).</param>
/// <param name="TotalSeconds">The sum, identical to <see cref="RuntimeModel.Predict(int, int)"/>.</param>
/// <param name="PromptExtrapolated">True when <c>p</c> lies outside the profiled prompt sizes, so <c>PE(p)</c> was extrapolated from the nearest segment.</param>
public sealed record RuntimePrediction(
    int PromptTokens,
    int OutputTokens,
    double PromptEncodingSeconds,
    double GenerationSeconds,
    double OverheadSeconds,
    double TotalSeconds,
    bool PromptExtrapolated);
