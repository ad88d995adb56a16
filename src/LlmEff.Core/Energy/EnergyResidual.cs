namespace LlmEff.Core.Energy;

/// <summary>One aggregated (p, o) point of an energy fit: what was measured and what the fitted model says.</summary>
/// <param name="PromptTokens">Prompt size <c>p</c> in tokens.</param>
/// <param name="OutputTokens">Output tokens <c>o</c>.</param>
/// <param name="ObservedJoules">Measured energy after trial aggregation, in joules.</param>
/// <param name="PredictedJoules">The fitted model's energy for the same point, in joules.</param>
public sealed record EnergyResidual(int PromptTokens, int OutputTokens, double ObservedJoules, double PredictedJoules)
{
    /// <summary>Observed minus predicted, in joules.</summary>
    public double ResidualJoules => ObservedJoules - PredictedJoules;
}
