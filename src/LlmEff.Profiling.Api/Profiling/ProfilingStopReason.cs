namespace LlmEff.Profiling.Api;

/// <summary>Why a run ended (cancellation instead throws <see cref="OperationCanceledException"/> after journaling what finished).</summary>
public enum ProfilingStopReason
{
    /// <summary>Every planned request was sent (or found finished in the journal).</summary>
    Completed = 0,

    /// <summary>The next batch could exceed a <see cref="ProfilingBudget"/> cap; rerun with a larger budget to continue.</summary>
    BudgetExhausted = 1,

    /// <summary>
    /// An adaptive run's query got no usable answer (every trial failed for good or was suspect), so the planner cannot choose
    /// the next one; the journal keeps the attempts, and a rerun asks that query again.
    /// </summary>
    Unanswered = 2,
}
