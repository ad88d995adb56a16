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

    /// <summary>
    /// An adaptive run met <see cref="ApiProfilingOptions.AdaptiveTargetP90"/> before its budget: the noise of one request was
    /// read from a repeated one and the fit's own p90 estimate was at or below the target. A rerun with the same target sends
    /// nothing; without it (or with a lower one) the run continues.
    /// </summary>
    TargetReached = 3,
}
