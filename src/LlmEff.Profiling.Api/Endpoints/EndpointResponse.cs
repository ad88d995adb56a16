namespace LlmEff.Profiling.Api;

/// <summary>What one successful request measured.</summary>
public sealed record EndpointResponse
{
    /// <summary>End-to-end wall-clock seconds from sending the request to the last byte of the answer.</summary>
    public required double RuntimeSeconds { get; init; }

    /// <summary>
    /// Seconds from sending to the first generated token of any kind, reasoning tokens streamed in
    /// <c>reasoning_content</c> / <c>reasoning</c> included (streaming only).
    /// </summary>
    public double? TimeToFirstTokenSeconds { get; init; }

    /// <summary>
    /// Seconds from sending to the first visible content token (streaming only); later than
    /// <see cref="TimeToFirstTokenSeconds"/> when a reasoning model thinks first, null when no content came.
    /// </summary>
    public double? TimeToFirstContentTokenSeconds { get; init; }

    /// <summary>Seconds between successive streamed tokens (streaming only; one fewer than the streamed chunks).</summary>
    public IReadOnlyList<double> InterTokenGapsSeconds { get; init; } = Array.Empty<double>();

    /// <summary>Prompt tokens the server reported in <c>usage</c>, when it did.</summary>
    public int? ReportedPromptTokens { get; init; }

    /// <summary>Generated tokens the server reported in <c>usage</c>, when it did.</summary>
    public int? ReportedOutputTokens { get; init; }

    /// <summary>
    /// Reasoning tokens the server reported in <c>usage.completion_tokens_details.reasoning_tokens</c>, when it did;
    /// they are part of <see cref="ReportedOutputTokens"/>.
    /// </summary>
    public int? ReportedReasoningTokens { get; init; }

    /// <summary>The server's finish reason (<c>length</c>, <c>stop</c>, ...), when given.</summary>
    public string? FinishReason { get; init; }

    /// <summary>Number of streamed chunks that carried a generated token, reasoning included (streaming only).</summary>
    public int StreamedChunks { get; init; }

    /// <summary>Of <see cref="StreamedChunks"/>, those that carried a reasoning token (streaming only).</summary>
    public int StreamedReasoningChunks { get; init; }
}
