using static TorchSharp.torch;

namespace LlmEff.Profiling.Torch;

/// <summary>
/// The prefill of short prompts as CUDA graphs, one per prompt size: run through the TorchScript interpreter, a prefill of a
/// few tokens is bound by the host issuing its ops (hundreds of them for a 32-layer model), so its time swung by a third
/// from one run to the next with the host's state; replayed, it is the GPU's time. Longer prompts keep the interpreted
/// prefill, whose GPU work hides the host's.
/// </summary>
public sealed partial class GreedyDecoder
{
    /// <summary>
    /// Default <see cref="PrefillGraphMaxTokens"/>: prompts of up to 512 tokens. On an H100 a Llama-3-8B prefill stops
    /// depending on the host between 128 and 256 tokens; 512 leaves room for deeper or thinner models (a mixture's layers
    /// issue several times as many ops) at a few tens of MB of graph memory per captured size.
    /// </summary>
    public const int DefaultPrefillGraphMaxTokens = 512;

    private readonly Dictionary<int, (CudaGraph Graph, Tensor Tokens)> _prefillGraphs = [];

    /// <summary>
    /// Largest prompt whose prefill <see cref="Generate"/> replays as a CUDA graph (captured on first use of each prompt
    /// size, or by <see cref="PreparePrefill"/>); 0 where decode steps are not captured (CPU, <see cref="CudaGraphMode.Off"/>)
    /// or prefill capture was turned off.
    /// </summary>
    public int PrefillGraphMaxTokens { get; private set; }

    /// <summary>Prompt sizes whose prefill graph has been captured so far.</summary>
    public IReadOnlyCollection<int> CapturedPrefillSizes => _prefillGraphs.Keys;

    /// <summary>
    /// Captures the prefill graph for prompts of <paramref name="promptTokens"/> tokens if <see cref="Generate"/> would
    /// replay one and it is not captured yet, so that the next <see cref="Generate"/> of that size times the replay and not
    /// the capture. Does nothing otherwise. A profiler calls it before starting its clock.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="promptTokens"/> is below 1 or leaves no room in the cache for one output token.</exception>
    public void PreparePrefill(int promptTokens)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(promptTokens, 1);
        if (promptTokens > CapacityTokens)
        {
            throw new ArgumentOutOfRangeException(nameof(promptTokens), promptTokens, $"The KV cache holds {CapacityTokens} positions; a prompt of {promptTokens} tokens does not fit. Create the decoder with a larger capacity.");
        }

        _ = PrefillGraph(promptTokens);
    }

    /// <summary>The captured prefill for <paramref name="promptTokens"/> tokens (capturing it now if needed), or null where prefill is interpreted.</summary>
    private (CudaGraph Graph, Tensor Tokens)? PrefillGraph(int promptTokens)
    {
        if (promptTokens > PrefillGraphMaxTokens)
        {
            return null;
        }

        if (_prefillGraphs.TryGetValue(promptTokens, out var captured))
        {
            return captured;
        }

        using var inference = inference_mode();
        var tokens = zeros([1, promptTokens], ScalarType.Int64, Model.Device);
        var stream = CudaGraph.SideStream();
        void Prefill()
        {
            TorchScriptExecutor.UsePlainInterpreter();
            InvokeWithModel("prefill_static", tokens, _token, _position, _history).Dispose();
        }

        CudaGraph graph;
        try
        {
            // Once on the capture stream first, so that handles and workspaces exist before capture (as for the decode steps).
            CudaGraph.RunOnSideStream(Prefill, stream);
            graph = CudaGraph.Capture(Prefill, stream);
        }
        catch
        {
            tokens.Dispose();
            throw;
        }

        cuda.synchronize();
        _prefillGraphs[promptTokens] = (graph, tokens);
        return (graph, tokens);
    }

    /// <summary>Encodes the prompt into the cache and sets the first output token: a graph replay for short prompts, else the interpreter.</summary>
    private void PrefillStatic(Tensor promptTokens, int p)
    {
        if (PrefillGraph(p) is { } g)
        {
            g.Tokens.copy_(promptTokens);
            g.Graph.Replay();
            return;
        }

        InvokeWithModel("prefill_static", promptTokens, _token, _position, _history).Dispose();
    }

    private void DisposePrefillGraphs()
    {
        foreach (var (graph, tokens) in _prefillGraphs.Values)
        {
            graph.Dispose();
            tokens.Dispose();
        }

        _prefillGraphs.Clear();
    }
}
