namespace LlmEff.Profiling.Api.Tests.Emulator;

internal enum EmulatedFaultKind
{
    /// <summary>HTTP 429 with <c>Retry-After: Seconds</c>.</summary>
    RateLimited,

    /// <summary>HTTP 429 with <c>Retry-After</c> as an HTTP date <c>Seconds</c> after <see cref="OpenAiEmulator.Clock"/>'s now.</summary>
    RateLimitedUntilDate,

    /// <summary>HTTP 429 without Retry-After.</summary>
    RateLimitedNoRetryAfter,

    /// <summary>HTTP 500.</summary>
    ServerError,

    /// <summary>HTTP 503.</summary>
    ServiceUnavailable,

    /// <summary>HTTP 400 (not retried).</summary>
    BadRequest,

    /// <summary>The connection is aborted before any answer.</summary>
    DropConnection,

    /// <summary>The first byte comes <c>Seconds</c> later than the latency model says (a slow server, not a dead one).</summary>
    Slow,

    /// <summary>No answer until the client gives up; <see cref="OpenAiEmulator.OnHang"/> is called once the request hangs.</summary>
    Hang,

    /// <summary>Truncated JSON: the whole body, or one streamed chunk mid-stream.</summary>
    MalformedJson,

    /// <summary>A stream whose events are not <c>data: JSON</c> (a proxy's HTML error page mid-stream).</summary>
    MalformedSse,

    /// <summary>HTTP 503 whose body echoes the Authorization header, as misconfigured proxies do.</summary>
    EchoAuthorization,

    /// <summary>The connection is aborted halfway through a stream.</summary>
    DropMidStream,

    /// <summary>A stream that ends cleanly after half its tokens, with [DONE] and the full usage (a proxy cut it short).</summary>
    ShortStream,

    /// <summary>A normal answer whose usage reports <c>Seconds</c> extra prompt tokens (a miscount).</summary>
    WrongPromptUsage,

    /// <summary>A normal answer whose usage reports more generated tokens than max_tokens.</summary>
    WrongOutputUsage,

    /// <summary>A normal answer without usage.</summary>
    NoUsage,

    /// <summary>HTTP 500, but only once every other request in flight has finished (so its retry runs alone).</summary>
    ServerErrorAfterOthers,
}

/// <summary>A fault the emulator injects into one request instead of (or on top of) a normal answer.</summary>
internal sealed record EmulatedFault(EmulatedFaultKind Kind, double Seconds = 0);
