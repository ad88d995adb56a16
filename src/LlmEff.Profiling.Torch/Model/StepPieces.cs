using static TorchSharp.torch;

namespace LlmEff.Profiling.Torch;

/// <summary>
/// Where a fused decode step's GPU time goes: each kind of piece (every layer's instance of it) captured alone in a CUDA
/// graph and replayed, less a graph of the step's fixed part (embedding lookup, mask). A piece left out hands its
/// consumers the output it gave in the full step, so every graph launches the same kernels on the same shapes. The
/// pieces overlap nothing inside a step (one stream), so their times add up to about the whole step's.
/// </summary>
internal sealed class StepPieces : IDisposable
{
    private readonly Dictionary<string, Tensor> _standIns = [];
    private readonly List<string> _seen = [];
    private string? _only;

    /// <summary>The pieces a full step ran, in the order it first ran them.</summary>
    public IReadOnlyList<string> Seen => _seen;

    /// <summary>Singles out <paramref name="piece"/> (null: every piece runs; empty: none does) for the steps that follow.</summary>
    public void RunOnly(string? piece) => _only = piece;

    /// <summary>Whether <paramref name="piece"/> runs in the step being captured (all pieces while none is singled out).</summary>
    public bool Runs(string piece)
    {
        if (_only is null && !_seen.Contains(piece))
        {
            _seen.Add(piece);
        }

        return _only is null || _only == piece;
    }

    /// <summary>The piece's output: computed where it runs (and kept from the full step as its stand-in), else that stand-in.</summary>
    public Tensor Output(string piece, Func<Tensor> produce)
    {
        if (Runs(piece))
        {
            var t = produce();
            if (!_standIns.ContainsKey(piece))
            {
                _standIns[piece] = t.detach().clone().DetachFromDisposeScope();
            }

            return t;
        }

        return _standIns.TryGetValue(piece, out var standIn)
            ? standIn
            : throw new InvalidOperationException($"The step piece '{piece}' has no stand-in output: time the full step first.");
    }

    /// <summary>
    /// Seconds per replay of the full step ("step"), of its fixed part ("fixed") and, for each piece, of the graph with only
    /// that piece less the fixed part. <paramref name="step"/> issues one step on the current stream; <paramref name="reset"/>
    /// puts the decoder back where replays may start (run before each timed series, outside the graph).
    /// </summary>
    public IReadOnlyDictionary<string, double> Measure(Action step, Action reset, int replays)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(replays, 1);
        using var inference = inference_mode();
        var stream = CudaGraph.SideStream();
        double Time(string? only)
        {
            RunOnly(only);
            CudaGraph.RunOnSideStream(
                () =>
                {
                    TorchScriptExecutor.UsePlainInterpreter();
                    reset();
                    step();
                },
                stream);
            using var graph = CudaGraph.Capture(step, stream);
            return graph.BestSecondsPerReplay(replays, reset);
        }

        var result = new Dictionary<string, double> { ["step"] = Time(null) };
        var fixedPart = Time(string.Empty);
        result["fixed"] = fixedPart;
        foreach (var piece in _seen.ToArray())
        {
            result[piece] = Time(piece) - fixedPart;
        }

        RunOnly(null);
        return result;
    }

    /// <summary>
    /// <see cref="Measure"/> with fresh pieces that <paramref name="attach"/> hands to the decoder whose step is timed (its
    /// step asks them which pieces run), and takes back (null) afterwards, even when the timing fails.
    /// </summary>
    public static IReadOnlyDictionary<string, double> MeasureAttached(Action<StepPieces?> attach, Action step, Action reset, int replays)
    {
        using var pieces = new StepPieces();
        attach(pieces);
        try
        {
            return pieces.Measure(step, reset, replays);
        }
        finally
        {
            attach(null);
        }
    }

    public void Dispose()
    {
        foreach (var t in _standIns.Values)
        {
            t.Dispose();
        }

        _standIns.Clear();
    }
}
