using System.Text.Json.Serialization;
using LlmEff.Core;

namespace LlmEff.Profiling.Api;

/// <summary>
/// One journaled request: what was asked, what the server reported, the timings and every attempt. One JSON line
/// per request in the run's journal (schema <c>llmeff.api-sample</c>, version 1).
/// </summary>
public sealed record ApiSampleRecord
{
    /// <summary>Requested prompt size <c>p</c> in tokens (under <see cref="Encoding"/>).</summary>
    public required int PromptTokens { get; init; }

    /// <summary>Requested output tokens <c>o</c>.</summary>
    public required int OutputTokens { get; init; }

    /// <summary>0-based trial.</summary>
    public required int Trial { get; init; }

    /// <summary>
    /// Requests sent together in this batch (1 outside load studies), or kept in flight by a concurrency load study;
    /// 0 in a request-rate study, whose load is <see cref="RequestRate"/>.
    /// </summary>
    public required int Concurrency { get; init; }

    /// <summary>0-based position within the concurrent batch.</summary>
    public int Slot { get; init; }

    /// <summary>Whether the answer was streamed.</summary>
    public bool Stream { get; init; }

    /// <summary>How the request ended.</summary>
    public required ApiSampleStatus Status { get; init; }

    /// <summary>End-to-end seconds of the successful attempt; null when it failed.</summary>
    public double? RuntimeSeconds { get; init; }

    /// <summary>Seconds to the first streamed token of any kind, reasoning tokens included (time to first output token).</summary>
    public double? TimeToFirstTokenSeconds { get; init; }

    /// <summary>Seconds to the first streamed visible content token; later than <see cref="TimeToFirstTokenSeconds"/> when a reasoning model thinks first.</summary>
    public double? TimeToFirstContentTokenSeconds { get; init; }

    /// <summary>Seconds between successive streamed tokens.</summary>
    public IReadOnlyList<double>? InterTokenGapsSeconds { get; init; }

    /// <summary>Prompt tokens the server reported in <c>usage</c>.</summary>
    public int? ReportedPromptTokens { get; init; }

    /// <summary>Generated tokens the server reported in <c>usage</c>, reasoning tokens included.</summary>
    public int? ReportedOutputTokens { get; init; }

    /// <summary>Of <see cref="ReportedOutputTokens"/>, the hidden reasoning tokens (<c>usage.completion_tokens_details.reasoning_tokens</c>).</summary>
    public int? ReportedReasoningTokens { get; init; }

    /// <summary>
    /// True for an answered request whose reported output length differs from the requested one (an early end of
    /// sequence, a server ignoring <c>min_tokens</c>): the fit leaves it out unless asked to fit reported lengths.
    /// </summary>
    [JsonIgnore]
    public bool OutputLengthMismatch => Status == ApiSampleStatus.Succeeded && ReportedOutputTokens is { } reported && reported != OutputTokens;

    /// <summary>Requests per second of the Poisson arrival process this request belongs to; null outside request-rate load studies.</summary>
    public double? RequestRate { get; init; }

    /// <summary>Seconds from the start of its load level to sending this request (load studies), on the profiler's clock.</summary>
    public double? LoadOffsetSeconds { get; init; }

    /// <summary>
    /// Load studies: how many requests its level journaled. A level has fewer records in the journal only when the run
    /// stopped while writing them; a resumed study then drops them and runs the level again. Null outside load studies.
    /// </summary>
    public int? LevelRequests { get; init; }

    /// <summary>
    /// True when a reported count differs from the requested one in a way a server legitimately does (an early
    /// end of sequence, a chat template's tokens); the sample is kept and fitted with the reported counts.
    /// </summary>
    public bool CountMismatch { get; init; }

    /// <summary>Why the sample is <see cref="ApiSampleStatus.Suspect"/>; null otherwise.</summary>
    public string? Issue { get; init; }

    /// <summary>
    /// Requests of the run on the wire when the measured attempt was sent, itself included: the load it really ran
    /// at. Equals <see cref="Concurrency"/> for a batch's first attempts; a retry sent after the rest of its batch
    /// finished shows less. Null in journals written before it was recorded.
    /// </summary>
    public int? InFlight { get; init; }

    /// <summary>The load the sample was measured at: <see cref="InFlight"/> when recorded, else <see cref="Concurrency"/>.</summary>
    [JsonIgnore]
    public int EffectiveConcurrency => InFlight ?? Concurrency;

    /// <summary>The server's finish reason.</summary>
    public string? FinishReason { get; init; }

    /// <summary>Every attempt, failures first, in order.</summary>
    public IReadOnlyList<ApiAttempt> Attempts { get; init; } = Array.Empty<ApiAttempt>();

    /// <summary>When the successful (or last) attempt was sent.</summary>
    public DateTimeOffset StartedUtc { get; init; }

    /// <summary>The endpoint's description (model and address; never credentials).</summary>
    public string? Endpoint { get; init; }

    /// <summary>The encoding prompt sizes are counted in.</summary>
    public string? Encoding { get; init; }

    /// <summary>The identity a resumed run matches.</summary>
    [JsonIgnore]
    public ApiRequestKey Key => new(PromptTokens, OutputTokens, Trial, Concurrency, Slot, Stream);

    /// <summary>Prompt size to fit with: the reported count when the server gave one, else the requested.</summary>
    [JsonIgnore]
    public int EffectivePromptTokens => ReportedPromptTokens ?? PromptTokens;

    /// <summary>Output tokens to fit with: the reported count when the server gave one, else the requested.</summary>
    [JsonIgnore]
    public int EffectiveOutputTokens => ReportedOutputTokens ?? OutputTokens;

    /// <summary>
    /// The sample for <see cref="RuntimeModel.Fit(IEnumerable{ProfilingSample}, RuntimeFitOptions?)"/>, with the
    /// server-reported token counts; null for failed requests or a reported output of 0 tokens.
    /// </summary>
    public ProfilingSample? ToProfilingSample()
    {
        if (Status != ApiSampleStatus.Succeeded || RuntimeSeconds is not { } runtime || runtime <= 0 || EffectiveOutputTokens < 1)
        {
            return null;
        }

        return new ProfilingSample(EffectivePromptTokens, EffectiveOutputTokens, runtime)
        {
            Trial = Trial,
            Concurrency = Concurrency > 0 ? Concurrency : null,
            Source = Endpoint,
        };
    }
}
