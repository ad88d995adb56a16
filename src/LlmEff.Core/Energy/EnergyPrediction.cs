namespace LlmEff.Core.Energy;

/// <summary>One query's predicted energy split into the accelerators' idle draw and the work above it.</summary>
/// <param name="TotalJoules">Predicted energy of the query in joules, summed over the accelerators; never negative.</param>
/// <param name="IdleJoules">Idle power × runtime × accelerators in joules; null when the idle power is unknown.</param>
/// <param name="DynamicJoules">Total minus idle in joules, never below 0; null when the idle power is unknown.</param>
public readonly record struct EnergyPrediction(double TotalJoules, double? IdleJoules, double? DynamicJoules);
