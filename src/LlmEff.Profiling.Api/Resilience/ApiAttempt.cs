
namespace LlmEff.Profiling.Api;

/// <summary>One HTTP attempt of a request, as recorded in the journal.</summary>
/// <param name="Number">1-based attempt number.</param>
/// <param name="Failure">Why it failed; null for the successful attempt.</param>
/// <param name="StatusCode">HTTP status of a failed answer, when there was one.</param>
/// <param name="ElapsedSeconds">Seconds the attempt took.</param>
/// <param name="RetryAfterSeconds">The server's <c>Retry-After</c>, when given.</param>
/// <param name="DelayBeforeRetrySeconds">The wait before the next attempt, when one followed.</param>
/// <param name="Message">The failure's message (never contains the API key).</param>
public sealed record ApiAttempt(
    int Number,
    EndpointFailureKind? Failure,
    int? StatusCode,
    double ElapsedSeconds,
    double? RetryAfterSeconds,
    double? DelayBeforeRetrySeconds,
    string? Message);
