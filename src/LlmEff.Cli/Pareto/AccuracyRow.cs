namespace LlmEff.Cli.Pareto;

/// <summary>One model's accuracy on one scenario and its efficiency metrics by name (missing metrics are absent).</summary>
internal sealed record AccuracyRow(string Scenario, string Model, double Accuracy, IReadOnlyDictionary<string, double> Metrics);
