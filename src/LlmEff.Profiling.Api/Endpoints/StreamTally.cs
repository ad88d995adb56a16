namespace LlmEff.Profiling.Api;

/// <summary>
/// A streamed answer tallied as its chunks arrive: when the first generated token and the first visible one came, the
/// gaps between tokens, the reasoning chunks, and the usage and finish reason the stream reports. Every endpoint that
/// streams counts through it, so they count alike.
/// </summary>
internal sealed class StreamTally
{
    private readonly List<double> _gaps = [];
    private double? _firstToken;
    private double? _firstContent;
    private double _last;
    private int _chunks;
    private int _reasoningChunks;
    private int? _promptTokens;
    private int? _outputTokens;
    private int? _reasoningTokens;

    /// <summary>Generated tokens seen so far (reasoning included).</summary>
    public int Chunks => _chunks;

    /// <summary>The first finish reason the stream gave; null while none came.</summary>
    public string? FinishReason { get; private set; }

    /// <summary>Keeps the first finish reason and the latest counts the stream reports (null leaves a count as it was).</summary>
    public void Report(string? finishReason, int? promptTokens, int? outputTokens, int? reasoningTokens)
    {
        FinishReason ??= finishReason;
        _promptTokens = promptTokens ?? _promptTokens;
        _outputTokens = outputTokens ?? _outputTokens;
        _reasoningTokens = reasoningTokens ?? _reasoningTokens;
    }

    /// <summary>A chunk arrived <paramref name="seconds"/> after the request was sent, carrying visible text, reasoning, both or neither.</summary>
    public void Chunk(double seconds, bool content, bool reasoning)
    {
        if (content)
        {
            _firstContent ??= seconds;
        }

        if (reasoning)
        {
            _reasoningChunks++;
        }

        if (!content && !reasoning)
        {
            return; // a role-only or usage chunk is no token
        }

        if (_firstToken is null)
        {
            _firstToken = seconds;
        }
        else
        {
            _gaps.Add(seconds - _last);
        }

        _last = seconds;
        _chunks++;
    }

    /// <summary>The answer, ended <paramref name="runtimeSeconds"/> after the request was sent.</summary>
    public EndpointResponse ToResponse(double runtimeSeconds) => new()
    {
        RuntimeSeconds = runtimeSeconds,
        TimeToFirstTokenSeconds = _firstToken,
        TimeToFirstContentTokenSeconds = _firstContent,
        InterTokenGapsSeconds = _gaps,
        StreamedChunks = _chunks,
        StreamedReasoningChunks = _reasoningChunks,
        ReportedPromptTokens = _promptTokens,
        ReportedOutputTokens = _outputTokens,
        ReportedReasoningTokens = _reasoningTokens,
        FinishReason = FinishReason,
    };
}
