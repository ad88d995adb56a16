namespace LlmEff.Profiling.Api;

/// <summary>Something that generates text and can be timed: an OpenAI-compatible HTTP API or an <c>IChatClient</c>.</summary>
public interface IProfilingEndpoint
{
    /// <summary>A description safe to log and store (model and address; never credentials).</summary>
    string Description { get; }

    /// <summary>Sends one request and times it.</summary>
    /// <param name="request">What to send.</param>
    /// <param name="cancellationToken">Cancels the request (the profiler links its per-request timeout here).</param>
    /// <returns>The measurement.</returns>
    /// <exception cref="EndpointException">The request failed; <see cref="EndpointException.IsTransient"/> says whether to retry.</exception>
    Task<EndpointResponse> SendAsync(EndpointRequest request, CancellationToken cancellationToken);
}
