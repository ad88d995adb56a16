namespace LlmEff.Profiling.Api.Tests.Emulator;

/// <summary>An in-process endpoint that answers each request (numbered from 0) as a test scripts it, with no clock of its own.</summary>
internal sealed class StubEndpoint(Func<int, EndpointRequest, CancellationToken, Task<EndpointResponse>> answer) : IProfilingEndpoint
{
    private int _calls;

    public int Calls => Volatile.Read(ref _calls);

    public string Description => "stub";

    /// <summary>A whole answer of the asked length, its prompt reported <paramref name="extraPrompt"/> tokens longer (a chat template's).</summary>
    public static EndpointResponse Ok(EndpointRequest request, int extraPrompt = 0) => new()
    {
        RuntimeSeconds = 0.01 + (0.001 * request.OutputTokens),
        ReportedPromptTokens = request.Prompt.TokenIds.Count + extraPrompt,
        ReportedOutputTokens = request.OutputTokens,
        FinishReason = "length",
    };

    public Task<EndpointResponse> SendAsync(EndpointRequest request, CancellationToken cancellationToken)
        => answer(Interlocked.Increment(ref _calls) - 1, request, cancellationToken);
}
