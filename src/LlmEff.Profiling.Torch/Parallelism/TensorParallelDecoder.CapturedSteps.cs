using TorchSharp;
using static TorchSharp.torch;

namespace LlmEff.Profiling.Torch;

/// <summary>
/// The ranks' static-shape decode step behind the captured graphs: the prefill into every rank's static state, one step
/// as the ranks' pieces with the all-reduces between them, its capture on every rank's device, and the interpreted run
/// of the same sequence that CPU tests compare with the eager steps.
/// </summary>
public sealed partial class TensorParallelDecoder
{
    /// <summary>
    /// The captured step's sequence run through the interpreter (no capture, the kernels' reference functions): lets CPU
    /// tests check, with the host all-reduce, what the graphs replay.
    /// </summary>
    internal Tensor GenerateStaticReference(Tensor promptTokens, int outputTokens)
    {
        var p = _ranks[0].CheckPrompt(promptTokens, outputTokens);
        return GenerateStatic(promptTokens, p, outputTokens, window => Step(window, useKernels: false));
    }

    /// <summary>
    /// Prefill (eager, every rank), the first token into every rank's static state, then <paramref name="step"/> per decode
    /// step's window; the ids from rank 0's history.
    /// </summary>
    private Tensor GenerateStatic(Tensor promptTokens, int p, int outputTokens, Action<int> step)
    {
        using var inference = inference_mode();
        using (var scope = NewDisposeScope())
        {
            var token = PrefillLogits(promptTokens).argmax(-1).view(1);
            for (var r = 0; r < _ranks.Length; r++)
            {
                _ranks[r].SetStaticState(token.to(_ranks[r].Model.Device), p);
            }
        }

        for (var i = 1; i < outputTokens; i++)
        {
            step(_ranks[0].WindowIndex(p + i - 1));
        }

        return _ranks[0].StaticOutput(p, outputTokens);
    }

    /// <summary>
    /// One static decode step of every rank, interleaved with the all-reduces: embedding, then per layer the attention and
    /// FFN partial sums, each reduced and added to the residual by the next norm, then the best (logit, id) table. Issued
    /// with each rank's device current, so its kernels launch in that device's context on its current stream.
    /// </summary>
    private void Step(int window, bool useKernels)
    {
        using var scope = NewDisposeScope();
        TorchScriptExecutor.UsePlainInterpreter();
        var n = _ranks.Length;
        var x = new Tensor[n];
        var mask = new Tensor[n];
        var streams = new IntPtr[n];
        for (var r = 0; r < n; r++)
        {
            streams[r] = useKernels && _kernels[r] is not null ? CudaGraph.CurrentRawStream(_devices[r]) : IntPtr.Zero;
            x[r] = OnRank(r, rank => rank.RankEmbed());
        }

        _allReduce.SumInPlace(x);
        for (var r = 0; r < n; r++)
        {
            mask[r] = OnRank(r, rank => rank.RankMask(x[r], window));
        }

        var layers = _ranks[0].Model.Shape.Layers;
        var parallel = _ranks[0].Model.Architecture.Block != Core.Architecture.BlockLayout.Sequential;
        Tensor[]? pending = null;
        var parts = new Tensor[n];
        for (var i = 0; i < layers; i++)
        {
            var attention = new Tensor[n];
            for (var r = 0; r < n; r++)
            {
                attention[r] = OnRank(r, rank => rank.RankAttentionPartial(x[r], pending?[r], i, window, mask[r], _attended[r], Kernels(r), streams[r]));
            }

            if (parallel)
            {
                // The parallel block: the FFN of the same normed input, its partial sum added to the attention's, one
                // all-reduce; the next norm adds the total to the residual.
                for (var r = 0; r < n; r++)
                {
                    var ffn = OnRank(r, rank => rank.RankFfnPartial(x[r], null, i, Kernels(r), streams[r]));
                    attention[r].add_(ffn);
                }

                _allReduce.SumInPlace(attention);
                pending = attention;
                continue;
            }

            _allReduce.SumInPlace(attention);
            for (var r = 0; r < n; r++)
            {
                parts[r] = OnRank(r, rank => rank.RankFfnPartial(x[r], attention[r], i, Kernels(r), streams[r]));
            }

            _allReduce.SumInPlace(parts);
            pending = [.. parts];
        }

        for (var r = 0; r < n; r++)
        {
            OnRank(r, rank =>
            {
                _best[r].zero_();
                rank.RankHeadPick(x[r], pending![r], _best[r].narrow(0, r, 1), Kernels(r), streams[r]);
            });
        }

        _allReduce.SumInPlace(_best);
        for (var r = 0; r < n; r++)
        {
            OnRank(r, rank => rank.RankHeadChoose(_best[r]));
        }

        DecodeKernels? Kernels(int r) => useKernels ? _kernels[r] : null;
    }

    /// <summary>Runs <paramref name="piece"/> of rank <paramref name="r"/> with its device current where that matters (CUDA).</summary>
    private T OnRank<T>(int r, Func<GreedyDecoder, T> piece) =>
        _devices[r] >= 0 ? CudaGraph.OnDevice(_devices[r], () => piece(_ranks[r])) : piece(_ranks[r]);

    private void OnRank(int r, Action<GreedyDecoder> piece) => OnRank(r, rank =>
    {
        piece(rank);
        return true;
    });

    /// <summary>
    /// Why the ranks' steps cannot be captured, or null: they must be on CUDA devices, summed by NCCL (the host all-reduce
    /// copies between ranks on the host's stream, which no rank's capture can record), with libtorch's graph entry points,
    /// and for several devices the means to switch the current one.
    /// </summary>
    private static string? GraphsUnavailableReason(IReadOnlyList<DecoderTransformer> shards, ITensorAllReduce allReduce)
    {
        if (shards.Any(s => s.Device.type != DeviceType.CUDA))
        {
            return $"the ranks are on {string.Join(", ", shards.Select(s => s.Device.ToString()).Distinct())}, and CUDA graphs need CUDA devices.";
        }

        if (allReduce is not NcclCommunicator)
        {
            return $"the all-reduce is {allReduce.GetType().Name}; a captured step records its collectives on each rank's stream, which needs NcclCommunicator.";
        }

        if (!CudaGraph.IsAvailable)
        {
            return CudaGraph.UnavailableReason;
        }

        return shards.Count > 1 ? CudaGraph.DeviceSwitchUnavailableReason : null;
    }

    /// <summary>
    /// Captures every window's step on every rank: each window first runs once on the capture streams (cuBLAS handles,
    /// workspaces, NCCL's per-stream state), then the ranks' captures are opened together, the step is issued once, and
    /// each rank's capture is closed: one graph per rank and window, replayed together.
    /// </summary>
    private CudaGraph[][] CaptureGraphs()
    {
        using var inference = inference_mode();
        var windows = _ranks[0].WindowCount;
        var windowTokens = _ranks[0].WindowTokens;
        var streams = _devices.Select(CudaGraph.SideStream).ToArray();
        var graphs = new List<CudaGraph[]>(windows);
        CudaGraph.SynchronizeDevices(_devices);
        try
        {
            CudaGraph.OnStreams(_devices, streams, () =>
            {
                for (var k = 0; k < windows; k++)
                {
                    SetPositions(k * windowTokens);
                    Step(k, useKernels: true);
                }

                CudaGraph.SynchronizeDevices(_devices);
                for (var k = 0; k < windows; k++)
                {
                    SetPositions(k * windowTokens);
                    CudaGraph.SynchronizeDevices(_devices);
                    var window = k;
                    graphs.Add(CudaGraph.CaptureOnDevices(_devices, streams, () => Step(window, useKernels: true)));
                }
            });
        }
        catch
        {
            foreach (var g in graphs.SelectMany(g => g))
            {
                g.Dispose();
            }

            throw;
        }

        CudaGraph.SynchronizeDevices(_devices);
        return [.. graphs];
    }

    private void SetPositions(int position)
    {
        foreach (var rank in _ranks)
        {
            rank.SetStaticPosition(position);
        }
    }
}
