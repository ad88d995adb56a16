
namespace LlmEff.Profiling.Api.Tests.Emulator;

/// <summary>
/// An in-process endpoint that answers at once with the runtime <see cref="EmulatedLatency"/> prescribes instead
/// of waiting for it: tests of what the fit recovers then depend on the latency model and the seed only, never on
/// how busy the machine is. With <c>batchSizes</c> it holds each request until its whole concurrent batch has
/// arrived (so a profiler that did not send a batch together would hang) and applies the load penalty of that batch.
/// </summary>
internal sealed class SimulatedEndpoint(EmulatedLatency latency, int seed, IReadOnlyList<int>? batchSizes = null) : IProfilingEndpoint
{
    private readonly Random _noise = new(seed);
    private readonly object _gate = new();
    private int _batch;
    private int _arrived;
    private TaskCompletionSource _full = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public string Description => "simulated-model at simulation";

    public int Requests { get; private set; }

    public async Task<EndpointResponse> SendAsync(EndpointRequest request, CancellationToken cancellationToken)
    {
        var load = 1;
        if (batchSizes is not null)
        {
            Task full;
            lock (_gate)
            {
                load = batchSizes[_batch];
                full = _full.Task;
                if (++_arrived == load)
                {
                    _full.SetResult();
                    _full = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    _arrived = 0;
                    _batch++;
                }
            }

            await full.WaitAsync(cancellationToken);
        }

        double noise;
        lock (_gate)
        {
            Requests++;
            noise = _noise.NextDouble() < latency.ZeroNoiseProbability ? 0 : -latency.NoiseMeanSeconds * Math.Log(1 - _noise.NextDouble());
        }

        var p = request.Prompt.TokenIds.Count;
        var o = request.OutputTokens;
        var penalty = 1 + (latency.LoadPenaltyPerRequest * (load - 1));
        var firstToken = latency.OverheadSeconds + (penalty * (latency.PromptBaseSeconds + (latency.PromptSecondsPerToken * p) + noise));
        var gap = penalty * latency.PerOutputTokenSeconds;
        var runtime = firstToken + ((o - 1) * gap);
        return new EndpointResponse
        {
            RuntimeSeconds = runtime,
            // Streamed: the first token after prompt encoding, then one every g (scaled by the load).
            TimeToFirstTokenSeconds = request.Stream ? firstToken : null,
            TimeToFirstContentTokenSeconds = request.Stream ? firstToken : null,
            InterTokenGapsSeconds = request.Stream ? Enumerable.Repeat(gap, o - 1).ToArray() : [],
            StreamedChunks = request.Stream ? o : 0,
            ReportedPromptTokens = p,
            ReportedOutputTokens = o,
            FinishReason = "length",
        };
    }
}
