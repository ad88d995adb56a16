namespace LlmEff.Core;

/// <summary>
/// One measured query: the end-to-end runtime of generating <paramref name="OutputTokens"/> tokens
/// from a prompt of <paramref name="PromptTokens"/> tokens (paper §3.4, a "configuration query").
/// </summary>
/// <param name="PromptTokens">Prompt size <c>p</c> in tokens; zero only as the overhead anchor of §3.5.</param>
/// <param name="OutputTokens">Number of generated tokens <c>o</c>; at least 1 (the first comes from prompt encoding).</param>
/// <param name="RuntimeSeconds">Measured wall-clock runtime in seconds; finite and positive.</param>
public sealed record ProfilingSample(int PromptTokens, int OutputTokens, double RuntimeSeconds)
{
    /// <summary>Index of the trial this sample came from (0-based), when several trials were run.</summary>
    public int? Trial { get; init; }

    /// <summary>Number of requests in flight when this one was sent (load studies, paper Figure 6); null means 1.</summary>
    public int? Concurrency { get; init; }

    /// <summary>Energy the accelerators used for this query in joules, when it was measured.</summary>
    public double? EnergyJoules { get; init; }

    /// <summary>Free-form origin of the sample (profiler, model, file), for provenance.</summary>
    public string? Source { get; init; }

    /// <summary>
    /// Seconds from sending the request to receiving the first output token, when the query was streamed and the
    /// harness recorded it (benchmark logs of serving tools do); the fit uses <see cref="RuntimeSeconds"/> only.
    /// </summary>
    public double? TimeToFirstTokenSeconds { get; init; }

    /// <summary>
    /// Mean gap in seconds between consecutive output tokens after the first, <c>(runtime − TTFT) / (o − 1)</c>, when it
    /// is known: the per-request counterpart of the decode time per token <c>g</c>.
    /// </summary>
    public double? MeanInterTokenSeconds { get; init; }

    /// <summary>
    /// Hidden reasoning tokens the server reported inside <see cref="OutputTokens"/> (they cost decode steps but are not
    /// in the visible answer), when reported.
    /// </summary>
    public int? ReasoningTokens { get; init; }

    /// <summary>
    /// Queries run together as one static batch, all with this sample's <c>(p, o)</c>; null means 1 (the paper's setting).
    /// <see cref="RuntimeSeconds"/> is then the whole batch's runtime, not a per-query share.
    /// </summary>
    public int? BatchSize { get; init; }
}
