namespace LlmEff.Profiling.Api;

/// <summary>A failed request, classified for the retry policy. Messages never contain the API key.</summary>
public sealed class EndpointException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="kind">The failure class.</param>
    /// <param name="message">A description safe to log.</param>
    /// <param name="statusCode">The HTTP status code, when there was an answer.</param>
    /// <param name="retryAfter">The server's <c>Retry-After</c>, when given.</param>
    /// <param name="innerException">The underlying exception, if any.</param>
    public EndpointException(EndpointFailureKind kind, string message, int? statusCode = null, TimeSpan? retryAfter = null, Exception? innerException = null)
        : base(message, innerException)
    {
        Kind = kind;
        StatusCode = statusCode;
        RetryAfter = retryAfter;
    }

    /// <summary>A client error that repeating can mend (a field the server refused, sent again without it).</summary>
    internal EndpointException(EndpointFailureKind kind, string message, int? statusCode, bool transient)
        : this(kind, message, statusCode)
    {
        _transient = transient;
    }

    private readonly bool? _transient;

    /// <summary>The failure class.</summary>
    public EndpointFailureKind Kind { get; }

    /// <summary>The HTTP status code, when there was an answer.</summary>
    public int? StatusCode { get; }

    /// <summary>The server's <c>Retry-After</c>, when given.</summary>
    public TimeSpan? RetryAfter { get; }

    /// <summary>True when repeating the request may succeed (everything but <see cref="EndpointFailureKind.ClientError"/>).</summary>
    public bool IsTransient => _transient ?? Kind != EndpointFailureKind.ClientError;

    /// <summary>Classifies an HTTP status code: 429 rate limit, 408 timeout, 5xx server error, other 4xx client error.</summary>
    public static EndpointFailureKind Classify(int statusCode) => statusCode switch
    {
        429 => EndpointFailureKind.RateLimited,
        408 => EndpointFailureKind.Timeout,
        >= 500 => EndpointFailureKind.ServerError,
        _ => EndpointFailureKind.ClientError,
    };

    /// <summary>
    /// The timeout failure for a request cancelled without the caller asking: by the profiler's own timeout
    /// (<paramref name="timedOut"/>), or by the endpoint itself (an HttpClient with its own Timeout, say).
    /// </summary>
    internal static EndpointException FromCancellation(OperationCanceledException ex, bool timedOut, TimeSpan requestTimeout) => timedOut
        ? new EndpointException(EndpointFailureKind.Timeout, $"No complete answer within {requestTimeout.TotalSeconds:0.###} s.")
        : new EndpointException(EndpointFailureKind.Timeout, $"The endpoint gave up waiting: {ex.Message}");
}
