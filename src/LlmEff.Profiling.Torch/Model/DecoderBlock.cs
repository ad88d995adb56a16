using LlmEff.Core.Architecture;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LlmEff.Profiling.Torch;

/// <summary>
/// One pre-norm decoder layer: norm, fused QKV projection, attention, output projection, norm, FFN (standard with tanh-GELU,
/// or gated with SiLU); or, in the parallel layouts of <see cref="TransformerArchitecture.Block"/>, both branches on the
/// layer's input, <c>x + attn(norm1(x)) + ffn(norm2(x))</c> (GPT-NeoX) or with one shared norm (GPT-J). Holds the weights; the fast path runs them through <see cref="DecoderScript"/>, and
/// <see cref="Forward"/> is the plain reference used to check it.
/// </summary>
public sealed class DecoderBlock : nn.Module
{
#pragma warning disable IDE0044, CA1823 // Fields are registered as parameters by RegisterComponents.
    private readonly Parameter norm1_weight;
    private readonly Parameter? norm1_bias;
    private readonly Parameter qkv_weight;
    private readonly Parameter? qkv_bias;
    private readonly Parameter out_weight;
    private readonly Parameter? out_bias;
    private readonly Parameter? norm2_weight;
    private readonly Parameter? norm2_bias;
    private readonly Parameter? up_weight;
    private readonly Parameter? up_bias;
    private readonly Parameter? down_weight;
    private readonly Parameter? down_bias;
    private readonly MixtureOfExpertsFeedForward? moe;
#pragma warning restore IDE0044, CA1823

    private readonly TransformerArchitecture _arch;
    private readonly ShardShape _shape;
    private readonly double _eps;
    private Tensor[]? _views;
    private Tensor? _residualBias;

    // The FFN's padded stores ([gate; up; zeros] rows, [down | zeros] columns, at FfnStorageWidth) when the width is not
    // a multiple of 8; the up/down parameters are views of their first rows/columns. Null when no padding is needed.
    // The script holds the stores, so the block must stay on the device it was built on (nothing here moves it).
    private readonly Tensor[]? _ffnStores;

    /// <param name="name">Module name.</param>
    /// <param name="arch">The whole model's architecture.</param>
    /// <param name="shape">This shard's local sizes (the whole model's for an unsharded model).</param>
    /// <param name="globalLayer">The layer's index in the whole model (names its parameters).</param>
    /// <param name="weights">Where the parameters come from.</param>
    /// <param name="normEpsilon">Norm epsilon.</param>
    /// <param name="alignFfnWidth">Store an FFN width that is not a multiple of 8 zero-padded (<see cref="DecoderOptions.AlignFfnWidth"/>).</param>
    /// <param name="seed">Seeds a mixture's routing (<see cref="MixtureOfExpertsFeedForward"/>).</param>
    internal DecoderBlock(string name, TransformerArchitecture arch, ShardShape shape, int globalLayer, WeightSource weights, double normEpsilon, bool alignFfnWidth = true, long seed = 0)
        : base(name)
    {
        _arch = arch;
        _shape = shape;
        _eps = normEpsilon;
        long h = shape.HiddenSize, qkvRows = (shape.Heads + (2L * shape.KeyValueHeads)) * shape.HeadDim, aw = shape.AttentionWidth, f = shape.FfnHiddenSize;
        var ln = arch.Norm == NormKind.LayerNorm;
        var bias = arch.LinearBiases;
        var rowBias = bias && shape.HasRowParallelBias;
        var upRows = arch.Ffn == FfnKind.Gated ? 2 * f : f;
        var p = $"layers.{globalLayer}.";
        norm1_weight = weights.Norm(p + nameof(norm1_weight), h, 1.0);
        norm1_bias = ln ? weights.Norm(p + nameof(norm1_bias), h, 0.0) : null;
        qkv_weight = weights.Random(p + nameof(qkv_weight), qkvRows, h);
        qkv_bias = bias ? weights.Random(p + nameof(qkv_bias), qkvRows) : null;
        out_weight = weights.Random(p + nameof(out_weight), h, aw);
        out_bias = rowBias ? weights.Random(p + nameof(out_bias), h) : null;
        if (arch.Block != BlockLayout.ParallelSharedNorm)
        {
            norm2_weight = weights.Norm(p + nameof(norm2_weight), h, 1.0);
            norm2_bias = ln ? weights.Norm(p + nameof(norm2_bias), h, 0.0) : null;
        }

        if (arch.IsMixtureOfExperts)
        {
            if (arch.Block != BlockLayout.Sequential)
            {
                throw new NotSupportedException($"{arch.Name}: a parallel block ({arch.Block}) with a mixture-of-experts FFN is not built by this engine; no catalog model has one.");
            }

            moe = new MixtureOfExpertsFeedForward(nameof(moe), arch, shape, globalLayer, weights, seed);
            RegisterComponents();
            return;
        }

        up_weight = weights.Random(p + nameof(up_weight), upRows, h);
        up_bias = bias ? weights.Random(p + nameof(up_bias), upRows) : null;
        down_weight = weights.Random(p + nameof(down_weight), h, f);
        down_bias = rowBias ? weights.Random(p + nameof(down_bias), h) : null;
        var fp = FfnStorageWidth(shape, alignFfnWidth);
        if (fp != f)
        {
            // Gated: [gate (f); up (f); zeros] in 2·fp rows, so the script's silu(gu[0, fp)) · gu[f, f + fp) is fp wide
            // with zeros past f (gu[f + j] is a zero row for j >= f).
            var storeRows = arch.Ffn == FfnKind.Gated ? 2L * fp : fp;
            Tensor upStore, downStore;
            Tensor? upBiasStore = null;
            (up_weight, upStore) = PaddedView(up_weight!, 0, storeRows);
            if (up_bias is not null)
            {
                (up_bias, upBiasStore) = PaddedView(up_bias, 0, storeRows);
            }

            (down_weight, downStore) = PaddedView(down_weight!, 1, fp);
            _ffnStores = upBiasStore is null ? [upStore, downStore] : [upStore, downStore, upBiasStore];
        }

        RegisterComponents();
    }

    /// <summary>The first norm's weight (and bias, LayerNorm only).</summary>
    internal Tensor Norm1Weight => norm1_weight;

    /// <summary>The first norm's bias, or null.</summary>
    internal Tensor? Norm1Bias => norm1_bias;

    /// <summary>The second norm's weight; null in the parallel block, which has one norm.</summary>
    internal Tensor? Norm2Weight => norm2_weight;

    /// <summary>The second norm's bias, or null.</summary>
    internal Tensor? Norm2Bias => norm2_bias;

    /// <summary>
    /// The row-parallel bias the fused steps leave for the next norm to add to the residual after this layer: the down
    /// projection's, and in the parallel block (no second norm to take it) the output projection's too, summed once here.
    /// Null when the rank adds neither.
    /// </summary>
    internal Tensor? ResidualBias
    {
        get
        {
            var parallel = _arch.Block != BlockLayout.Sequential;
            if (!parallel || out_bias is null || down_bias is null)
            {
                return parallel ? out_bias ?? down_bias : down_bias;
            }

            if (_residualBias is null)
            {
                // Kept for the block's life: out of whatever dispose scope the first step that asks runs in.
                using var noGrad = no_grad();
                _residualBias = (out_bias + down_bias).DetachFromDisposeScope();
            }

            return _residualBias;
        }
    }

    /// <summary>The attention output projection's bias on the rank that adds it, or null.</summary>
    internal Tensor? OutBias => out_bias;

    /// <summary>The output projection's weight (contiguous), which the fused step may ask the L2 for ahead of its GEMM (<see cref="WeightPrefetch"/>).</summary>
    internal Tensor OutWeight => out_weight;

    /// <summary>The dense FFN's first weight as its GEMM reads it (gate and up, or up; the padded store where there is one); null for a mixture.</summary>
    internal Tensor? FfnInputWeight => _ffnStores?[0] ?? up_weight;

    /// <summary>The FFN down projection's bias on the rank that adds it, or null.</summary>
    internal Tensor? DownBias => down_bias;

    /// <summary>The mixture-of-experts FFN, or null for a dense layer.</summary>
    internal MixtureOfExpertsFeedForward? Experts => moe;

    /// <summary>
    /// This layer's tensors in the order <see cref="DecoderScript"/> indexes them: norm1 (weight, bias), QKV (weight, bias),
    /// output (weight, bias), norm2 (weight, bias), up or gate-up (weight, bias), down (weight, bias); absent biases are
    /// skipped and matrices come as transposed views (no copies), ready for <c>mm</c>/<c>addmm</c>.
    /// </summary>
    internal IEnumerable<Tensor> ScriptTensors()
    {
        // The transposed views are made once and disposed with the block: a view left to the finalizer keeps its whole
        // weight alive, so a released model would hold its GPU memory until a garbage collection.
        if (moe is not null)
        {
            _views ??= [qkv_weight.t(), out_weight.t()];
            Tensor?[] attention = [norm1_weight, norm1_bias, _views[0], qkv_bias, _views[1], out_bias, norm2_weight, norm2_bias];
            return attention.Where(p => p is not null).Select(p => p!).Concat(moe.ScriptTensors());
        }

        _views ??= _ffnStores is null
            ? [qkv_weight.t(), out_weight.t(), up_weight!.t(), down_weight!.t()]
            : [qkv_weight.t(), out_weight.t(), _ffnStores[0].t(), _ffnStores[1].t()];
        var upBias = _ffnStores is { Length: 3 } ? _ffnStores[2] : up_bias;
        Tensor?[] all = [norm1_weight, norm1_bias, _views[0], qkv_bias, _views[1], out_bias, norm2_weight, norm2_bias, _views[2], upBias, _views[3], down_bias];
        return all.Where(p => p is not null).Select(p => p!);
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing && _views is not null)
        {
            foreach (var v in _views)
            {
                v.Dispose();
            }

            _views = null;
        }

        if (disposing)
        {
            _residualBias?.Dispose();
            _residualBias = null;
        }

        if (disposing && _ffnStores is not null)
        {
            foreach (var t in _ffnStores)
            {
                t.Dispose();
            }
        }

        base.Dispose(disposing);
    }

    /// <summary>
    /// Reference forward pass over a whole sequence from position 0, with explicit masked-softmax attention (no KV cache).
    /// </summary>
    /// <param name="x">Hidden states <c>[1, T, h]</c>.</param>
    /// <param name="positions">Position tables of the model.</param>
    /// <returns>The layer output <c>[1, T, h]</c>.</returns>
    internal Tensor Forward(Tensor x, PositionTables positions)
    {
        if (!_shape.IsFull)
        {
            throw new InvalidOperationException("The reference forward pass runs the whole model only; run a shard through its decoder.");
        }

        int heads = _arch.Heads, kvHeads = _arch.KeyValueHeads, hd = _arch.HeadDim;
        var t = x.shape[1];
        var y = Norm(x, norm1_weight, norm1_bias);
        var qkv = nn.functional.linear(y, qkv_weight, qkv_bias).view(1, t, heads + (2 * kvHeads), hd);
        var q = qkv.narrow(2, 0, heads);
        var k = qkv.narrow(2, heads, kvHeads);
        var v = qkv.narrow(2, heads + kvHeads, kvHeads);
        if (_arch.Positions == PositionalScheme.Rotary)
        {
            q = positions.ApplyRotary(q, 0);
            k = positions.ApplyRotary(k, 0);
        }

        var groups = heads / kvHeads;
        q = q.transpose(1, 2).to(ScalarType.Float32);
        k = k.transpose(1, 2).repeat_interleave(groups, 1).to(ScalarType.Float32);
        v = v.transpose(1, 2).repeat_interleave(groups, 1).to(ScalarType.Float32);
        var scores = matmul(q, k.transpose(2, 3)) / Math.Sqrt(hd);
        if (_arch.Positions == PositionalScheme.Alibi)
        {
            scores += positions.AlibiBias(t).to(ScalarType.Float32).unsqueeze(0);
        }

        var causal = ones(t, t, ScalarType.Bool, x.device).triu(1);
        if (_arch.SlidingWindowTokens is { } window)
        {
            // Sliding window: position i sees only i - W + 1 .. i.
            causal |= ones(t, t, ScalarType.Bool, x.device).tril(-window);
        }

        scores = scores.masked_fill(causal, double.NegativeInfinity);
        // Heads enter the output projection in (group, kv head) order, as in DecoderScript (a relabelling of random weights).
        var attention = matmul(scores.softmax(-1), v).to(x.dtype).view(kvHeads, groups, t, hd).permute(2, 1, 0, 3).reshape(1, t, heads * hd);
        var attended = nn.functional.linear(attention, out_weight, out_bias);
        if (_arch.Block != BlockLayout.Sequential)
        {
            // Both branches read the layer's input (x is still it), normed once (GPT-J) or by each branch's norm (GPT-NeoX);
            // their outputs join the residual together.
            var ffnInput = _arch.Block == BlockLayout.ParallelSharedNorm ? y : Norm(x, norm2_weight!, norm2_bias);
            return x + attended + nn.functional.linear(FfnActivation(ffnInput), down_weight!, down_bias);
        }

        x = x + attended;
        y = Norm(x, norm2_weight!, norm2_bias);
        if (moe is not null)
        {
            return x + moe.ReferenceForward(y.view(t, -1), 0).view(1, t, -1);
        }

        return x + nn.functional.linear(FfnActivation(y), down_weight!, down_bias);
    }

    // The dense FFN's activation of the normed y, before the down projection.
    private Tensor FfnActivation(Tensor y)
    {
        if (_arch.Ffn == FfnKind.Gated)
        {
            var gateUp = nn.functional.linear(y, up_weight!, up_bias);
            var f = _arch.FfnHiddenSize;
            return nn.functional.silu(gateUp.narrow(-1, 0, f)) * gateUp.narrow(-1, f, f);
        }

        return nn.functional.gelu(nn.functional.linear(y, up_weight!, up_bias), GELU.Approximate.tanh);
    }

    /// <summary>The width the FFN weights are stored at (and the script's FP): padded to a multiple of 8, or exact.</summary>
    internal static int FfnStorageWidth(ShardShape shape, bool align) => align ? shape.FfnStorageWidth : shape.FfnHiddenSize;

    // A zero tensor `size` long along `dim` holding the parameter's values first, and the parameter again as a view of it.
    private static (Parameter View, Tensor Store) PaddedView(Parameter parameter, int dim, long size)
    {
        var shape = parameter.shape.ToArray();
        var length = shape[dim];
        shape[dim] = size;
        var store = zeros(shape, parameter.dtype, parameter.device);
        using (no_grad())
        {
            using var head = store.narrow(dim, 0, length);
            head.copy_(parameter);
        }

        parameter.Dispose();
        return (new Parameter(store.narrow(dim, 0, length), requires_grad: false), store);
    }

    private Tensor Norm(Tensor x, Tensor weight, Tensor? bias) => DecoderTransformer.ApplyNorm(_arch.Norm, x, weight, bias, _eps);
}
