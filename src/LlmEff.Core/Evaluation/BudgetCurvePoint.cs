namespace LlmEff.Core.Evaluation;

/// <summary>Held-out error of a design strategy at one query budget.</summary>
/// <param name="Strategy">Design strategy (paper grid or adaptive).</param>
/// <param name="Queries">Queries measured.</param>
/// <param name="HeldOut">Error on the configurations not measured.</param>
public sealed record BudgetCurvePoint(string Strategy, int Queries, ErrorSummary HeldOut);
