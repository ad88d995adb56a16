namespace LlmEff.Profiling.Api;

/// <summary>One request as a reader found it in a log, before the checks of <see cref="ImportCollector"/>.</summary>
internal sealed record ImportedRequest
{
    public int? PromptTokens { get; init; }

    public int? OutputTokens { get; init; }

    public double? RuntimeSeconds { get; init; }

    public double? TimeToFirstTokenSeconds { get; init; }

    public int? ReasoningTokens { get; init; }

    /// <summary>The output length the request asked for, where the log records it.</summary>
    public int? RequestedOutputTokens { get; init; }

    /// <summary>When the request was sent, in seconds on the log's own clock; with the runtime it gives the load.</summary>
    public double? StartSeconds { get; init; }

    /// <summary>Requests in flight when this one was sent, where the tool states it and the log has no send times.</summary>
    public int? Concurrency { get; init; }

    /// <summary>The tool's error for a failed request; null when it succeeded.</summary>
    public string? Failure { get; init; }

    /// <summary>Why the request is a warm-up one, not part of the measured run; null when it is measured.</summary>
    public string? Warmup { get; init; }

    /// <summary>Why the answer was cut short; null when it was complete.</summary>
    public string? CutShort { get; init; }

    /// <summary>Why the token counts are missing, when the reader knows more than "absent".</summary>
    public string? MissingTokensDetail { get; init; }
}
