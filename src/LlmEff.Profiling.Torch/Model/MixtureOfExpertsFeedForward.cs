using LlmEff.Core.Architecture;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LlmEff.Profiling.Torch;

/// <summary>
/// One layer's mixture-of-experts FFN with random weights: a router (<c>h × E</c>, replicated on every rank), the
/// <c>E</c> routed experts stored stacked (<c>[E, 2f, h]</c> gate-up and <c>[E, h, f]</c> down, each expert split across
/// tensor-parallel ranks as the dense FFN is), and the shared experts with their optional sigmoid gate.
/// <para>
/// Routing is idealized: the <c>k</c> experts of the token at each position are a seeded uniform draw of <c>k</c>
/// distinct experts out of <c>E</c>, fixed per (seed, layer, position) in a table held on the device. A trained router
/// with its load-balancing loss spreads tokens evenly over experts on average, and runtime depends only on how many
/// tokens each expert receives, not on which; a uniform draw is that balanced load without the data a real router
/// needs. The router still computes every expert's logit (a GEMM in the script, warps of the expert kernels in the fused
/// step), and its logits at the chosen experts give the mixing weights (softmax over the <c>k</c> chosen, Mixtral's rule
/// and Qwen's renormalised top-k), so the step does the real router's work.
/// </para>
/// <para>
/// The experts run as two grouped GEMMs (<c>torch._grouped_mm</c>) over the token copies sorted by expert: every shape
/// is static, nothing is read back to the host, so the same code runs eagerly, in TorchScript and inside a captured CUDA
/// graph; an expert that receives no token launches no tile and its weights are not read, so a decode step at batch 1
/// reads only its <c>k</c> experts while a prompt touches most of them.
/// </para>
/// </summary>
internal sealed class MixtureOfExpertsFeedForward : nn.Module
{
#pragma warning disable IDE0044, CA1823 // Fields are registered as parameters by RegisterComponents.
    private readonly Parameter router_weight;
    private readonly Parameter experts_gate_up;
    private readonly Parameter experts_down;
    private readonly Parameter? shared_gate_up;
    private readonly Parameter? shared_down;
    private readonly Parameter? shared_gate;
#pragma warning restore IDE0044, CA1823

    private readonly TransformerArchitecture _arch;
    private readonly Tensor _routes;
    private Tensor[]? _views;

    /// <param name="name">Module name.</param>
    /// <param name="arch">The whole model's architecture (a mixture of experts).</param>
    /// <param name="shape">This shard's local sizes; <see cref="ShardShape.FfnHiddenSize"/> is the local routed-expert width.</param>
    /// <param name="globalLayer">The layer's index in the whole model (names its parameters, seeds its routing).</param>
    /// <param name="weights">Where the parameters come from.</param>
    /// <param name="seed">Routing seed (the model's <see cref="DecoderOptions.Seed"/>): every rank of a shard draws the same routes.</param>
    public MixtureOfExpertsFeedForward(string name, TransformerArchitecture arch, ShardShape shape, int globalLayer, WeightSource weights, long seed)
        : base(name)
    {
        _arch = arch;
        long h = shape.HiddenSize, e = arch.Experts, f = shape.FfnHiddenSize;
        var gated = arch.Ffn == FfnKind.Gated;
        var p = $"layers.{globalLayer}.moe.";
        router_weight = weights.Random(p + nameof(router_weight), e, h);
        experts_gate_up = weights.Random(p + nameof(experts_gate_up), e, gated ? 2 * f : f, h);
        experts_down = weights.Random(p + nameof(experts_down), e, h, f);
        if (arch.SharedExperts > 0)
        {
            long fs = SharedLocalWidth(arch, shape);
            shared_gate_up = weights.Random(p + nameof(shared_gate_up), gated ? 2 * fs : fs, h);
            shared_down = weights.Random(p + nameof(shared_down), h, fs);
            shared_gate = arch.SharedExpertGate ? weights.Random(p + nameof(shared_gate), 1, h) : null;
        }

        _routes = Routes(arch, globalLayer, seed, weights.Device);
        RegisterComponents();
    }

    /// <summary>The routing table <c>[context, k]</c> (int64, each row's experts ascending): position <c>j</c>'s token goes to row <c>j</c>'s experts.</summary>
    public Tensor RoutingTable => _routes;

    /// <summary>The router's rows, <c>[E, h]</c> (one per expert).</summary>
    internal Tensor RouterWeight => router_weight;

    /// <summary>The stacked experts' gate and up rows, <c>[E, 2f, h]</c> (gate rows first).</summary>
    internal Tensor GateUpWeight => experts_gate_up;

    /// <summary>The stacked experts' down rows, <c>[E, h, f]</c>.</summary>
    internal Tensor DownWeight => experts_down;

    /// <summary>
    /// The tensors <see cref="DecoderScript"/> indexes for this FFN, in order: router (transposed), routes, stacked
    /// gate-up and down (transposed per expert, <c>[E, h, U]</c> and <c>[E, f, h]</c>), then, with shared experts, their
    /// gate-up and down (transposed) and the gate (transposed) when there is one.
    /// </summary>
    public IEnumerable<Tensor> ScriptTensors()
    {
        _views ??= shared_gate_up is null
            ? [router_weight.t(), experts_gate_up.transpose(1, 2), experts_down.transpose(1, 2)]
            : [router_weight.t(), experts_gate_up.transpose(1, 2), experts_down.transpose(1, 2), shared_gate_up.t(), shared_down!.t(), .. shared_gate is null ? Array.Empty<Tensor>() : [shared_gate.t()]];
        return [_views[0], _routes, .. _views.Skip(1)];
    }

    /// <summary>Tensors <see cref="ScriptTensors"/> yields for <paramref name="arch"/>.</summary>
    public static int ScriptTensorCount(TransformerArchitecture arch) => 4 + (arch.SharedExperts > 0 ? 2 : 0) + (arch.SharedExpertGate ? 1 : 0);

    /// <summary>Local width of the shared experts on this shard (all shared experts side by side, split like the dense FFN).</summary>
    public static int SharedLocalWidth(TransformerArchitecture arch, ShardShape shape) =>
        arch.SharedExperts * arch.SharedExpertFfnHiddenSize / shape.Shard.TensorParallelDegree;

    /// <summary>
    /// Reference computation, token by token and expert by expert with plain matrix products (no grouped GEMM, no
    /// sorting): the output <c>[T, h]</c> for normed hidden states <paramref name="y"/> <c>[T, h]</c> at positions
    /// <paramref name="firstPosition"/> onwards. Used by the reference forward pass and the tests.
    /// </summary>
    public Tensor ReferenceForward(Tensor y, int firstPosition)
    {
        var t = (int)y.shape[0];
        var f = experts_down.shape[2];
        var gated = _arch.Ffn == FfnKind.Gated;
        Tensor Activation(Tensor u, long width) => gated
            ? nn.functional.silu(u.narrow(-1, 0, width)) * u.narrow(-1, width, width)
            : nn.functional.gelu(u, GELU.Approximate.tanh);

        var rows = new List<Tensor>(t);
        for (var i = 0; i < t; i++)
        {
            var yi = y.narrow(0, i, 1);
            var chosen = _routes[firstPosition + i];
            var logits = nn.functional.linear(yi, router_weight).index_select(1, chosen);
            var gates = logits.to(ScalarType.Float32).softmax(-1).to(y.dtype);
            var sum = zeros_like(yi);
            var experts = chosen.data<long>().ToArray();
            for (var j = 0; j < experts.Length; j++)
            {
                var e = experts[j];
                var z = nn.functional.linear(Activation(nn.functional.linear(yi, experts_gate_up[e]), f), experts_down[e]);
                sum += z * gates.narrow(1, j, 1);
            }

            rows.Add(sum);
        }

        var output = cat(rows, 0);
        if (shared_gate_up is not null)
        {
            var fs = shared_down!.shape[1];
            var shared = nn.functional.linear(Activation(nn.functional.linear(y, shared_gate_up), fs), shared_down);
            if (shared_gate is not null)
            {
                shared *= nn.functional.sigmoid(nn.functional.linear(y, shared_gate));
            }

            output += shared;
        }

        return output;
    }

    /// <summary>
    /// The shard slice of a whole model's MoE parameter <paramref name="leaf"/>, or null when the name is not one: experts
    /// split per expert like the dense FFN (gate and up rows, down columns), the router and shared gate replicated.
    /// </summary>
    public static Tensor? ShardSlice(string leaf, Tensor full, TransformerArchitecture arch, ShardShape shape)
    {
        var gated = arch.Ffn == FfnKind.Gated;
        int f = arch.ExpertFfnHiddenSize, local = shape.FfnHiddenSize, start = shape.FfnStart;
        int fs = arch.SharedExperts * arch.SharedExpertFfnHiddenSize, sharedLocal = SharedLocalWidth(arch, shape), sharedStart = shape.Shard.TensorParallelRank * sharedLocal;
        return leaf switch
        {
            "router_weight" or "shared_gate" => full,
            "experts_gate_up" => full.index_select(1, UpRows(f, start, local, gated, full.device)),
            "experts_down" => full.narrow(2, start, local),
            "shared_gate_up" => full.index_select(0, UpRows(fs, sharedStart, sharedLocal, gated, full.device)),
            "shared_down" => full.narrow(1, sharedStart, sharedLocal),
            _ => null,
        };
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            foreach (var v in _views ?? [])
            {
                v.Dispose();
            }

            _views = null;
            _routes.Dispose();
        }

        base.Dispose(disposing);
    }

    private static Tensor UpRows(int f, int start, int local, bool gated, Device device)
    {
        var rows = Enumerable.Range(start, local).Select(i => (long)i);
        if (gated)
        {
            rows = rows.Concat(Enumerable.Range(f + start, local).Select(i => (long)i));
        }

        return tensor(rows.ToArray(), device: device);
    }

    // A seeded uniform draw of k distinct experts per position (partial Fisher-Yates), each row sorted ascending, so the
    // grouped GEMMs' token copies of a one-token step are already in expert order. Drawn on the host with its own
    // generator: the same on every device and rank, independent of libtorch's RNG state.
    private static Tensor Routes(TransformerArchitecture arch, int globalLayer, long seed, Device device)
    {
        int rows = arch.MaxContextTokens, k = arch.ExpertsPerToken, e = arch.Experts;
        if (device.type == DeviceType.META)
        {
            return empty([rows, k], ScalarType.Int64, device);
        }

        var random = new Random(unchecked((int)((seed * 1_000_003) + (globalLayer * 7_919) + 0x6d6f65)));
        var table = new long[(long)rows * k];
        var pool = Enumerable.Range(0, e).ToArray();
        var row = new long[k];
        for (var r = 0; r < rows; r++)
        {
            for (var j = 0; j < k; j++)
            {
                var pick = random.Next(j, e);
                (pool[j], pool[pick]) = (pool[pick], pool[j]);
                row[j] = pool[j];
            }

            Array.Sort(row);
            Array.Copy(row, 0, table, (long)r * k, k);
        }

        using var host = tensor(table, [rows, k]);
        return host.to(device);
    }
}
