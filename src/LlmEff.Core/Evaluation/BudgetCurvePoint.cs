namespace LlmEff.Core.Evaluation;

/// <summary>Held-out error of a design strategy at one query budget.</summary>
/// <param name="Strategy">Design strategy (paper grid or adaptive).</param>
/// <param name="Queries">Queries measured.</param>
/// <param name="HeldOut">Error on the configurations not measured.</param>
public sealed record BudgetCurvePoint(string Strategy, int Queries, ErrorSummary HeldOut)
{
    /// <summary>
    /// The budget the point stands for. Equal to <see cref="Queries"/> unless the strategy could not spend it all on this grid:
    /// the paper's grid on a grid whose prompt sizes stand in for fewer than its five (their nearest coincide), or a budget
    /// that is no multiple of five. 0 where the point was made without one.
    /// </summary>
    public int Budget { get; init; }
}
