namespace LlmEff.Profiling.Api;

/// <summary>Why a request failed; decides whether it is retried.</summary>
public enum EndpointFailureKind
{
    /// <summary>HTTP 429: the provider's rate limit. Retried, honouring <c>Retry-After</c>.</summary>
    RateLimited = 0,

    /// <summary>HTTP 5xx. Retried.</summary>
    ServerError = 1,

    /// <summary>The per-request timeout elapsed. Retried.</summary>
    Timeout = 2,

    /// <summary>The connection failed or was dropped mid-answer. Retried.</summary>
    ConnectionFailed = 3,

    /// <summary>The answer was not the JSON or event stream expected. Retried (usually a proxy hiccup).</summary>
    MalformedResponse = 4,

    /// <summary>Any other HTTP 4xx (bad request, unauthorized, unknown model). Not retried: repeating cannot help.</summary>
    ClientError = 5,

    /// <summary>
    /// The run was cancelled (Ctrl-C) while the attempt was in flight or waiting to be retried. Journaled with the request's
    /// earlier attempts, so that a resumed run counts them against the request budget; the resumed run sends it again.
    /// </summary>
    Cancelled = 6,
}
