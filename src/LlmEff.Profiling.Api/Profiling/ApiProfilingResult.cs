using LlmEff.Core.Planning;

namespace LlmEff.Profiling.Api;

/// <summary>The outcome of <see cref="ApiProfiler.RunAsync"/>.</summary>
public sealed record ApiProfilingResult
{
    /// <summary>
    /// Every record in the journal after the run, earlier runs' included; of a grid run, those of its first
    /// <see cref="ApiProfilingOptions.Trials"/> trials (an earlier run may have added more).
    /// </summary>
    public required IReadOnlyList<ApiSampleRecord> Records { get; init; }

    /// <summary>Why the run ended.</summary>
    public required ProfilingStopReason StopReason { get; init; }

    /// <summary>HTTP attempts this run made, retries included.</summary>
    public required int AttemptsThisRun { get; init; }

    /// <summary>Planned requests skipped because the journal already had them.</summary>
    public required long Skipped { get; init; }

    /// <summary>Requests of this run that failed after all retries.</summary>
    public required long Failed { get; init; }

    /// <summary>Requests of this run answered with token counts that cannot be trusted (<see cref="ApiSampleStatus.Suspect"/>; not fitted).</summary>
    public long Suspect { get; init; }

    /// <summary>What the whole journal has spent.</summary>
    public required BudgetUsage Usage { get; init; }

    /// <summary>
    /// An adaptive run's fit and its own estimate of the error at the candidates it did not measure
    /// (<see cref="LlmEff.Core.Planning.AdaptiveProfilingPlanner.Assess"/> over the journal's answered requests); null for a grid
    /// run, or when the answers cannot be fitted yet (a run stopped before its seed was measured).
    /// </summary>
    public PlanAssessment? Assessment { get; init; }

    /// <summary>The journal file.</summary>
    public required string JournalPath { get; init; }
}
