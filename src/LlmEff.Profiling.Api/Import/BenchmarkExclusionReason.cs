namespace LlmEff.Profiling.Api;

/// <summary>Why an imported request is not a sample of the runtime model.</summary>
public enum BenchmarkExclusionReason
{
    /// <summary>The tool recorded the request as failed (an error, an HTTP error status, no response).</summary>
    Failed,

    /// <summary>The answer was cut short: cancelled, left incomplete at the end of the run, or its stream never ended.</summary>
    CutShort,

    /// <summary>
    /// The log records the output length the request asked for and the answer's length differs, so the query was
    /// not the configuration it was sent as (kept, on its reported length, with
    /// <see cref="BenchmarkImportOptions.FitMismatchedOnReportedLength"/>).
    /// </summary>
    LengthMismatch,

    /// <summary>The prompt or output token count is missing or zero, so the tokens behind the runtime are unknown.</summary>
    MissingTokenCounts,

    /// <summary>The end-to-end runtime is missing, not finite or not positive.</summary>
    MissingTiming,

    /// <summary>The tool marked the request as a warm-up one, sent before the measured run (AIPerf's <c>benchmark_phase</c>).</summary>
    Warmup,
}
