using LlmEff.Core.Architecture;
using static TorchSharp.torch;

namespace LlmEff.Profiling.Torch;

/// <summary>
/// The batched decode step as pieces with fused kernels between them, as <see cref="GreedyDecoder"/>'s single-query
/// step: about nine kernels per layer instead of the all-TorchScript step's seventeen, and attention that reads each
/// query's cache only up to its position.
/// </summary>
public sealed partial class BatchedGreedyDecoder
{
    /// <summary>
    /// The fused step's sequence through the interpreter with the kernels' reference functions (no capture, no kernels):
    /// lets CPU tests check the sequence the graphs replay against <see cref="Generate(Tensor, int)"/>'s interpreted steps.
    /// </summary>
    internal Tensor GenerateFusedReference(Tensor promptTokens, int outputTokens)
    {
        if (!Model.Shape.HasHead)
        {
            throw new NotSupportedException("The fused step needs the stage with the head.");
        }

        var b = (int)promptTokens.shape[0];
        var p = (int)promptTokens.shape[1];
        var bucket = _views[Array.IndexOf(_buckets, b)];
        using var inference = inference_mode();
        TorchScriptExecutor.UsePlainInterpreter();
        Invoke(bucket, "prefill_static", promptTokens, bucket.Token, _position, bucket.History).Dispose();
        for (var i = 1; i < outputTokens; i++)
        {
            DecodeFused(bucket, (p + i - 1) / WindowTokens, kernels: null, attention: null, IntPtr.Zero);
        }

        return bucket.History.narrow(1, p, outputTokens).clone();
    }

    /// <summary>
    /// The fused kernels for <paramref name="model"/> on the current CUDA device, each null where it does not serve the
    /// model: the single-query step's kernels where that step takes them, and the attention kernel beside them.
    /// </summary>
    private static (DecodeKernels? Kernels, DecodeAttention? Attention, DecodeAttention? Wide) FusedKernelsFor(DecoderTransformer model, int maxBatch)
    {
        var kernels = GreedyDecoder.FusedKernelsFor(model);
        if (kernels is null || model.Architecture.Positions == PositionalScheme.Alibi)
        {
            return (kernels, null, null);
        }

        var dtype = model.Precision.ToScalarType();
        var attention = DecodeAttention.For(dtype, model.Shape.HeadDim, model.Shape.Groups).Kernel;
        // The engine's pipelined form gives way to the warp tiles where a bucket has many (query, KV head) pairs: compiled
        // only where the largest bucket has that many.
        var wide = attention is { Form: AttentionKernelForm.Pipelined } && DecodeAttention.FormInUse is null
            && (long)maxBatch * model.Shape.KeyValueHeads >= DecodeAttention.PipelinedMostPairs
            ? DecodeAttention.For(dtype, model.Shape.HeadDim, model.Shape.Groups, DecodeAttention.VariantInUse, AttentionKernelForm.WarpTiles).Kernel
            : null;
        return (kernels, attention, wide);
    }

    /// <summary>
    /// The attention kernel for a bucket of <paramref name="batch"/> queries (null without the kernel): the engine's form,
    /// except the warp tiles from <see cref="DecodeAttention.PipelinedMostPairs"/> (query, KV head) pairs on.
    /// </summary>
    private DecodeAttention? AttentionFor(int batch) =>
        _attentionWide is not null && (long)batch * Model.Shape.KeyValueHeads >= DecodeAttention.PipelinedMostPairs ? _attentionWide : _attention;

    /// <summary>Context chunks of the attention kernel for a bucket of <paramref name="batch"/> queries in its longest window, the most over its windows (0 without the kernel).</summary>
    private int MostAttentionChunks(int batch) =>
        AttentionFor(batch)?.MostSplits(batch, Model.Shape.KeyValueHeads, WindowTokens, CapacityTokens) ?? 0;

    /// <summary>The step a graph captures: the fused sequence where the kernels exist, else the one TorchScript call.</summary>
    private void Step(Bucket bucket, int window)
    {
        if (_kernels is null)
        {
            DecodeStatic(bucket, window);
        }
        else
        {
            DecodeFused(bucket, window, _kernels, AttentionFor(bucket.Size), CudaGraph.CurrentRawStream());
        }
    }

    /// <summary>
    /// One batched step as pieces: per layer, norm (adding the previous layer's pending down-projection bias), QKV GEMM,
    /// rotary + cache write, attention, output GEMM, norm (adding the output bias), FFN (gate/up GEMM, activation, down
    /// GEMM); then the final norm (adding the last down bias) and the head. Row-parallel biases are added by the next
    /// norm, in the order and roundings of the all-TorchScript step.
    /// </summary>
    private void DecodeFused(Bucket bucket, int window, DecodeKernels? kernels, DecodeAttention? attention, IntPtr stream)
    {
        var lb = WindowLength(window);
        var s = Model.Shape;
        var ln = Model.Architecture.Norm == NormKind.LayerNorm;
        var gated = Model.Architecture.Ffn == FfnKind.Gated;
        var eps = Model.Options.NormEpsilon;
        var y = bucket.Normed!;
        using var scope = NewDisposeScope();

        void Norm(Tensor x, Tensor? add, Tensor weight, Tensor? bias, Tensor? output = null)
        {
            if (kernels is not null)
            {
                kernels.Norm(x, add, weight, bias, output ?? y, eps, ln, stream);
            }
            else
            {
                Call("f_norm_ref", x, add ?? x, add is null ? 0 : 1, weight, bias ?? weight, output ?? y);
            }
        }

        // The FFN's input: the first norm's output, or a two-norm parallel block's second norm of the same layer input.
        var ffnInput = bucket.Normed2 ?? y;

        var x = Call("_embed_at", bucket.Token, _position, _globals);
        var mask = attention is null ? Call("_static_mask", x, _position, lb, _globals) : null;
        var act = gated ? empty([bucket.Size, DecoderBlock.FfnStorageWidth(s, Model.Options.AlignFfnWidth)], y.dtype, y.device) : null;
        var blocks = Model.Blocks;
        // Deferred adds (an experiment's switch): the output and down projections write a buffer that the next norm adds to
        // the residual, instead of adding into it themselves (cuBLAS with beta = 1). Only where no bias waits for that norm.
        var defer = DeferResidualAdds && gated && Model.Architecture.Block == BlockLayout.Sequential
            && blocks.All(b => b.OutBias is null && b.ResidualBias is null);
        var pending = defer ? empty([bucket.Size, s.HiddenSize], y.dtype, y.device) : null;
        Tensor? waiting = null;
        for (var i = 0; i < blocks.Count; i++)
        {
            var block = blocks[i];
            if (Runs("norm"))
            {
                Norm(x, waiting ?? (i > 0 ? blocks[i - 1].ResidualBias : null), block.Norm1Weight, block.Norm1Bias);
                waiting = null;
                if (bucket.Normed2 is not null)
                {
                    Norm(x, null, block.Norm2Weight!, block.Norm2Bias, bucket.Normed2);
                }
            }

            var qkv = Output("qkv", () => Call("f_qkv", y, i, _layerTensors));
            if (Runs("rotary"))
            {
                if (kernels is not null)
                {
                    kernels.RotaryCache(qkv, bucket.Queries!, bucket.Cache[i], _position, Model.Positions.Cos, Model.Positions.SignedSin, s.Heads, s.KeyValueHeads, s.HeadDim, stream, attention is { PrefetchesWeights: true } ? null : block.OutWeight);
                }
                else
                {
                    Call("f_rotary_ref", qkv, bucket.Queries!, bucket.Cache[i], _position, _globals);
                }
            }

            if (Runs("attention"))
            {
                if (attention is not null)
                {
                    attention.Run(bucket.Queries!, bucket.Cache[i], _position, bucket.Attention!, bucket.AttentionWorkspace, s.Heads, s.KeyValueHeads, attention.Split(bucket.Size, s.KeyValueHeads, lb), lb, stream, block.OutWeight, block.FfnInputWeight);
                }
                else
                {
                    Call("f_attn_ref", bucket.Queries!, i, lb, mask!, bucket.Attention!, bucket.Keys, bucket.Values);
                }
            }

            if (Runs("out"))
            {
                if (defer)
                {
                    Call("f_out_mm", bucket.Attention!, i, _layerTensors, pending!);
                    waiting = pending;
                }
                else
                {
                    Call("f_out", x, bucket.Attention!, i, _layerTensors);
                }
            }

            // Parallel blocks take no norm here: the FFN reads the layer input's norm (the shared one, or the second kept
            // apart above), and the output bias waits in the block's residual bias for the next norm.
            if (Model.Architecture.Block == BlockLayout.Sequential && Runs("norm"))
            {
                Norm(x, waiting ?? block.OutBias, block.Norm2Weight!, block.Norm2Bias);
                waiting = null;
            }

            if (gated)
            {
                var gu = Output("gate_up", () => Call("f_gate_up", ffnInput, i, _layerTensors));
                if (Runs("activation"))
                {
                    if (kernels is not null)
                    {
                        kernels.SiluMul(gu, act!, s.FfnHiddenSize, stream);
                    }
                    else
                    {
                        Call("f_silu_mul_ref", gu, act!);
                    }
                }

                if (Runs("down"))
                {
                    if (defer)
                    {
                        Call("f_down_mm", act!, i, _layerTensors, pending!);
                        waiting = pending;
                    }
                    else
                    {
                        Call("f_down", x, act!, i, _layerTensors);
                    }
                }
            }
            else if (Runs("ffn"))
            {
                Call("f_ffn", x, ffnInput, i, _layerTensors);
            }
        }

        if (Runs("norm"))
        {
            Norm(x, waiting ?? blocks[^1].ResidualBias, Model.FinalNormWeight!, Model.FinalNormBias);
        }

        if (Runs("head"))
        {
            Call("f_head", y, bucket.Token, _position, bucket.History, _globals);
        }
    }

    /// <summary>
    /// Whether the fused step defers the residual adds of its output and down projections to the next norm (an experiment
    /// the GPU harness sets before building a decoder; off by default, where cuBLAS adds them with beta = 1).
    /// </summary>
    internal static bool DeferResidualAddsInUse { get; set; }

    /// <summary>This decoder's choice, taken from <see cref="DeferResidualAddsInUse"/> when built (set it before the graphs are captured).</summary>
    internal bool DeferResidualAdds { get; set; } = DeferResidualAddsInUse;

    private bool Runs(string piece) => _pieces?.Runs(piece) ?? true;

    private Tensor Output(string piece, Func<Tensor> produce) => _pieces is null ? produce() : _pieces.Output(piece, produce);

    /// <summary>
    /// The fused step's GPU seconds by piece (<see cref="StepPieces"/>) for a batch of <paramref name="batchSize"/> (a
    /// bucket), replayed <paramref name="replays"/> times from context <paramref name="contextTokens"/>.
    /// </summary>
    internal IReadOnlyDictionary<string, double> MeasureStepPieces(int batchSize, int contextTokens, int replays = 20)
    {
        if (!UsesFusedKernels)
        {
            throw new NotSupportedException("Step pieces are timed on the fused CUDA-graph step; this decoder does not use it.");
        }

        var k = Array.IndexOf(_buckets, batchSize);
        if (k < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, $"Not a bucket of this decoder ({string.Join(", ", _buckets)}).");
        }

        var start = Math.Min(contextTokens, CapacityTokens - replays - 2);
        ArgumentOutOfRangeException.ThrowIfNegative(start, nameof(contextTokens));
        var window = (start + replays) / WindowTokens;
        var bucket = _views[k];
        return StepPieces.MeasureAttached(
            p => _pieces = p,
            () => DecodeFused(bucket, window, _kernels, AttentionFor(bucket.Size), CudaGraph.CurrentRawStream()),
            () =>
            {
                _position.fill_(start);
                bucket.Token.zero_();
            },
            replays);
    }

    /// <summary>Calls a script function with exactly the given arguments (each piece takes the tensor lists it needs).</summary>
    private Tensor Call(string function, params object[] arguments) => (Tensor)_script.invoke(function, arguments);
}
