namespace LlmEff.Core.Metrics;

/// <summary>One model's accuracy on one scenario and its efficiency metrics by name (missing metrics are absent), as <see cref="AccuracyTable"/> reads them.</summary>
/// <param name="Scenario">The scenario (task), e.g. <c>boolq</c>; <c>all</c> when the file has no scenario column.</param>
/// <param name="Model">The model's name as the file spells it.</param>
/// <param name="Accuracy">Its accuracy (capability), higher is better.</param>
/// <param name="Metrics">Efficiency metrics by column name, lower is better, e.g. <c>idealized</c> (seconds) or <c>cost_usd</c>.</param>
public sealed record AccuracyRow(string Scenario, string Model, double Accuracy, IReadOnlyDictionary<string, double> Metrics);
