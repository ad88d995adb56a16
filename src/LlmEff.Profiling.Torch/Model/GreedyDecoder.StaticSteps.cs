using TorchSharp;
using static TorchSharp.torch;

namespace LlmEff.Profiling.Torch;

/// <summary>
/// The static-shape decode step behind CUDA-graph replays: the windows, the all-TorchScript step and the fused-kernel
/// sequence, their capture, and the interpreted runs of both that CPU tests compare with eager decoding.
/// </summary>
public sealed partial class GreedyDecoder
{
    /// <summary>
    /// The static-shape path of graph replays, run through the interpreter instead (no capture): prefill, then one
    /// <c>decode_static</c> call per step in the step's window. Lets CPU tests check what the graphs replay.
    /// </summary>
    internal Tensor GenerateStaticShapes(Tensor promptTokens, int outputTokens)
    {
        var p = CheckPrompt(promptTokens, outputTokens);
        return GenerateStatic(promptTokens, p, outputTokens, DecodeStatic);
    }

    /// <summary>Prefill, then <paramref name="step"/> for each decode step's window; the generated ids from the device history.</summary>
    private Tensor GenerateStatic(Tensor promptTokens, int p, int outputTokens, Action<int> step)
    {
        using var inference = inference_mode();
        TorchScriptExecutor.UsePlainInterpreter();
        PrefillStatic(promptTokens, p);
        for (var i = 1; i < outputTokens; i++)
        {
            step(WindowIndex(p + i - 1));
        }

        return StaticOutput(p, outputTokens);
    }

    /// <summary>
    /// The fused-kernel step's sequence, run through the interpreter with the kernels' reference functions (no capture,
    /// no kernels): lets CPU tests check the sequence the graphs replay.
    /// </summary>
    internal Tensor GenerateFusedReference(Tensor promptTokens, int outputTokens)
    {
        var p = CheckPrompt(promptTokens, outputTokens);
        if (_normed is null)
        {
            throw new NotSupportedException("The fused step needs the stage with the head.");
        }

        return GenerateStatic(promptTokens, p, outputTokens, window => DecodeFused(window, kernels: null, stream: IntPtr.Zero));
    }

    internal static DecodeKernels? FusedKernelsFor(DecoderTransformer model, int device = 0)
    {
        var s = model.Shape;
        if (!s.HasHead || s.HiddenSize > DecodeKernels.MaxNormWidth || s.HeadDim > 1024)
        {
            return null;
        }

        return DecodeKernels.For(model.Precision.ToScalarType(), device).Kernels;
    }

    /// <summary>
    /// One static step as pieces: per layer, norm (adding the previous layer's pending down-projection bias), QKV GEMM,
    /// rotary + cache write, attention and output GEMM, norm (adding the output bias), FFN; then the final norm (adding
    /// the last down bias) and the head. Row-parallel biases are added by the next norm, in the same order and
    /// roundings as the eager step adds them.
    /// </summary>
    private void DecodeFused(int window, DecodeKernels? kernels, IntPtr stream)
    {
        var lb = WindowLength(window);
        var s = Model.Shape;
        var y = _normed!;
        using var scope = NewDisposeScope();

        void Norm(Tensor x, Tensor? add, Tensor weight, Tensor? bias) => NormInto(x, add, weight, bias, kernels, stream);

        var x = Invoke("_embed_at", _token, _position, _globals);
        var a = Model.Architecture;

        // The expert kernels' workspace, once per step: the router's logits and the chosen experts' activations.
        Tensor? routerLogits = null, activation = null;
        if (kernels is not null && _expertKernels is not null)
        {
            routerLogits = empty([a.Experts], y.dtype, y.device);
            activation = empty([a.ExpertsPerToken, s.FfnHiddenSize], y.dtype, y.device);
        }

        var mask = kernels is not null && _attention is not null ? null : Invoke("_static_mask", x, _position, lb, _globals);
        var blocks = Model.Blocks;
        for (var i = 0; i < blocks.Count; i++)
        {
            var block = blocks[i];
            if (Runs("norm"))
            {
                Norm(x, i > 0 ? blocks[i - 1].ResidualBias : null, block.Norm1Weight, block.Norm1Bias);
                if (_normed2 is not null)
                {
                    // GPT-NeoX: the FFN's norm of the same layer input (the pending bias already added), kept apart.
                    NormInto(x, null, block.Norm2Weight!, block.Norm2Bias, kernels, stream, _normed2);
                }
            }

            var qkv = Output("qkv", () => Invoke("f_qkv", y, i, _layerTensors));
            if (Runs("rotary"))
            {
                RotaryInto(qkv, i, kernels, stream);
            }

            // The split sequence where the kernel runs, and in the reference run (no kernels) that checks it on the CPU;
            // otherwise attention and its projection in one script call, as before the kernel existed.
            if (_attended is null || (kernels is not null && _attention is null))
            {
                if (Runs("attention"))
                {
                    Invoke("f_attn", x, _queries!, i, lb, mask!, _layerTensors, _keys, _values);
                }
            }
            else
            {
                if (Runs("attention"))
                {
                    if (kernels is not null)
                    {
                        _attention!.Run(_queries!.unsqueeze(0), _cache[i], _position, _attended, _attentionWorkspace, s.Heads, s.KeyValueHeads, _attention.Split(1, s.KeyValueHeads, lb), lb, stream, block.OutWeight, block.FfnInputWeight);
                    }
                    else
                    {
                        Invoke("f_attn_ref", _queries!, i, lb, mask!, _attended, _keys, _values);
                    }
                }

                if (Runs("out"))
                {
                    Invoke("f_out", x, _attended, i, _layerTensors);
                }
            }

            // Parallel blocks take no norm here: the FFN reads the layer input's norm (the shared one, or the second kept
            // apart above), and the output bias waits in the block's residual bias for the next norm.
            if (a.Block == Core.Architecture.BlockLayout.Sequential && Runs("norm"))
            {
                Norm(x, block.OutBias, block.Norm2Weight!, block.Norm2Bias);
            }

            if (a.IsMixtureOfExperts)
            {
                if (routerLogits is not null)
                {
                    var ffn = block.Experts!;
                    var shared = a.SharedExperts > 0 ? Output("shared", () => Invoke("f_moe_shared", y, i, _layerTensors)) : null;
                    if (Runs("experts"))
                    {
                        _expertKernels!.Run(y, ffn.RouterWeight, ffn.RoutingTable, _position, ffn.GateUpWeight, ffn.DownWeight, shared, x, routerLogits, activation!, stream);
                    }
                }
                else if (Runs("ffn"))
                {
                    Invoke("f_moe", x, y, i, _position, _layerTensors);
                }
            }
            else if (Runs("ffn"))
            {
                Invoke("f_ffn", x, _normed2 ?? y, i, _layerTensors);
            }
        }

        if (Runs("norm"))
        {
            Norm(x, blocks[^1].ResidualBias, Model.FinalNormWeight!, Model.FinalNormBias);
        }

        if (Runs("head"))
        {
            Invoke("f_head", y, _token, _position, _history, _globals);
        }
    }

    /// <summary>
    /// The fused step's norm: adds <paramref name="add"/> (a pending bias or reduced partial sum) to the residual
    /// <paramref name="x"/> in place, then writes the normed row into the step's norm output; by the kernel, or by its
    /// reference function where <paramref name="kernels"/> is null.
    /// </summary>
    private void NormInto(Tensor x, Tensor? add, Tensor weight, Tensor? bias, DecodeKernels? kernels, IntPtr stream, Tensor? output = null)
    {
        var ln = Model.Architecture.Norm == Core.Architecture.NormKind.LayerNorm;
        var y = output ?? _normed!;
        if (kernels is not null)
        {
            kernels.Norm(x, add, weight, bias, y, Model.Options.NormEpsilon, ln, stream);
        }
        else
        {
            Invoke("f_norm_ref", x, add ?? x, add is null ? 0 : 1, weight, bias ?? weight, y);
        }
    }

    /// <summary>
    /// The fused step's rotary + cache write of layer <paramref name="layer"/>: the token's rotated queries into the step's
    /// query buffer and its keys and values into the layer's cache at the current position; by the kernel, or by its
    /// reference function where <paramref name="kernels"/> is null.
    /// </summary>
    private void RotaryInto(Tensor qkv, int layer, DecodeKernels? kernels, IntPtr stream)
    {
        if (kernels is not null)
        {
            var s = Model.Shape;
            // The layer's output projection is read after attention: the kernel may ask the L2 for it (WeightPrefetch).
            var prefetch = _attention is { PrefetchesWeights: true } ? null : Model.Blocks[layer].OutWeight;
            kernels.RotaryCache(qkv, _queries!, _cache[layer], _position, Model.Positions.Cos, Model.Positions.SignedSin, s.Heads, s.KeyValueHeads, s.HeadDim, stream, prefetch);
        }
        else
        {
            Invoke("f_rotary_ref", qkv, _queries!, _cache[layer], _position, _globals);
        }
    }

    private bool Runs(string piece) => _pieces?.Runs(piece) ?? true;

    private Tensor Output(string piece, Func<Tensor> produce) => _pieces is null ? produce() : _pieces.Output(piece, produce);

    /// <summary>
    /// The fused step's GPU seconds by piece (<see cref="StepPieces"/>), replayed <paramref name="replays"/> times from
    /// context <paramref name="contextTokens"/>: a diagnostic of where the step's time goes beside its bound.
    /// </summary>
    internal IReadOnlyDictionary<string, double> MeasureStepPieces(int contextTokens, int replays = 20)
    {
        if (!UsesFusedKernels)
        {
            throw new NotSupportedException("Step pieces are timed on the fused CUDA-graph step; this decoder does not use it.");
        }

        var start = Math.Min(contextTokens, CapacityTokens - replays - 2);
        ArgumentOutOfRangeException.ThrowIfNegative(start, nameof(contextTokens));
        var window = WindowIndex(start + replays);
        return StepPieces.MeasureAttached(
            p => _pieces = p,
            () => DecodeFused(window, _kernels, CudaGraph.CurrentRawStream()),
            () =>
            {
                _position.fill_(start);
                _token.zero_();
            },
            replays);
    }

    /// <summary>
    /// Why the decode attention kernel cannot serve <paramref name="model"/> with a cache of
    /// <paramref name="capacityTokens"/>, or null when it can: it attends to every position up to the current one, with no
    /// ALiBi bias, so a sliding window that could hide positions, ALiBi, or a head shape it does not take rule it out.
    /// </summary>
    internal static string? AttentionKernelUnsupportedReason(DecoderTransformer model, int capacityTokens)
    {
        var a = model.Architecture;
        return a.Positions == Core.Architecture.PositionalScheme.Alibi
            ? "ALiBi adds a per-head bias the decode attention kernel does not apply."
            : a.SlidingWindowTokens is { } w && w < capacityTokens
                ? $"the {w}-token sliding window can hide positions of a {capacityTokens}-token cache, and the decode attention kernel attends to all of them."
                : DecodeAttention.UnsupportedReason(model.Shape.HeadDim, model.Shape.Groups);
    }

    /// <summary>The routed-expert kernels for a gated mixture whose sizes they take, or null (the step's TorchScript FFN then runs them).</summary>
    private static MixtureOfExpertsKernels? ExpertKernelsFor(DecoderTransformer model)
    {
        var a = model.Architecture;
        if (!a.IsMixtureOfExperts || MixtureOfExpertsKernels.UnsupportedReason(a.Ffn == Core.Architecture.FfnKind.Gated, a.ExpertsPerToken, model.Shape.HiddenSize, model.Shape.FfnHiddenSize) is not null)
        {
            return null;
        }

        return MixtureOfExpertsKernels.For(model.Precision.ToScalarType()).Kernels;
    }

    /// <summary>The replay window of a step at <paramref name="position"/>.</summary>
    internal int WindowIndex(int position) => position / WindowTokens;

    private int WindowLength(int window) => (int)Math.Min((long)WindowTokens * (window + 1), CapacityTokens);

    /// <summary>Replay windows over the cache (one captured step each).</summary>
    internal int WindowCount => ((CapacityTokens - 1) / WindowTokens) + 1;

    private void DecodeStatic(int window) =>
        InvokeWithModel("decode_static", _token, _position, _history, WindowLength(window)).Dispose();

    /// <summary>
    /// Captures one decode step per window. Every window first runs once eagerly on the capture stream, so cuBLAS handles,
    /// workspaces and kernels exist before capture; each step starts from position 0 (any position inside the window
    /// would do: the captured kernels read the position from the device).
    /// </summary>
    private CudaGraph[] CaptureGraphs()
    {
        using var inference = inference_mode();
        var stream = CudaGraph.SideStream();
        var count = WindowCount;
        CudaGraph.RunOnSideStream(
            () =>
            {
                TorchScriptExecutor.UsePlainInterpreter();
                for (var k = 0; k < count; k++)
                {
                    _position.zero_();
                    Step(k);
                }
            },
            stream);

        // Kernel launches go to the stream libtorch uses at the time: the capture stream.
        void Step(int window)
        {
            if (_kernels is null)
            {
                DecodeStatic(window);
            }
            else
            {
                DecodeFused(window, _kernels, CudaGraph.CurrentRawStream());
            }
        }

        var graphs = new List<CudaGraph>(count);
        try
        {
            for (var k = 0; k < count; k++)
            {
                var window = k;
                graphs.Add(CudaGraph.Capture(() => Step(window), stream));
            }
        }
        catch
        {
            foreach (var g in graphs)
            {
                g.Dispose();
            }

            throw;
        }

        torch.cuda.synchronize();
        return [.. graphs];
    }
}
