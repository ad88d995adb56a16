using System.Globalization;
using System.Text;
using LlmEff.Core.Architecture;

namespace LlmEff.Profiling.Torch;

/// <summary>
/// Writes the TorchScript source of one architecture's KV-cached forward passes. Running a whole decode step (and the
/// whole generation loop) inside TorchScript dispatches every op from C++: a TorchSharp call costs about 12 us of host
/// time, which at ~40 ops per layer would make a 6-8B decode step host-bound (shared/gpu/README.md). Shapes and flags
/// are baked in as literals, so the script has no architecture branches. This file holds the writer's state and the
/// emitters every pass shares; DecoderScript.WholeGeneration.cs writes the eager and whole-generation passes,
/// DecoderScript.StaticSteps.cs the static-shape step behind CUDA graphs.
/// </summary>
internal static partial class DecoderScript
{
    public static string Build(TransformerArchitecture a, double eps) => Build(a, ModelShard.Full.Resolve(a), eps);

    /// <summary>
    /// The script of one shard (<paramref name="s"/>; the whole model when it is full). Besides the whole-generation
    /// functions, which run the shard as its rank would with the collectives left out (their time is modelled), it has
    /// per-layer functions returning the row-parallel partial sums, for a driver that all-reduces them across ranks.
    /// </summary>
    /// <param name="a">The whole model's architecture.</param>
    /// <param name="s">The shard's local sizes.</param>
    /// <param name="eps">Norm epsilon.</param>
    /// <param name="alignFfnWidth">Whether the blocks store the FFN padded (<see cref="DecoderOptions.AlignFfnWidth"/>).</param>
    public static string Build(TransformerArchitecture a, ShardShape s, double eps, bool alignFfnWidth = true) =>
        new Writer(a, s, eps, alignFfnWidth).Write();

    private static string I(int v) => v.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// One script being written: the architecture's and shard's flags, tensor offsets and literals, and the emitters of
    /// the pieces every pass repeats (norms, projections, row-parallel sums, attention, FFN, embedding).
    /// </summary>
    private sealed partial class Writer
    {
        private const string Sig = "w: List[Tensor], g: List[Tensor], kvc: List[Tensor], kk: List[Tensor], vv: List[Tensor]";
        private const string Args = "w, g, kvc, kk, vv";

        private readonly TransformerArchitecture _arch;
        private readonly ShardShape _shape;
        private readonly bool _ln;
        private readonly bool _gated;
        private readonly bool _tp;
        private readonly bool _moe;
        private readonly bool _rotary;
        private readonly bool _alibi;
        private readonly bool _masked;
        private readonly int? _window;
        private readonly int _n1w, _n1b, _qkvw, _qkvb, _ow, _ob, _n2w, _n2b, _uw, _ub, _dw, _db, _moeFirst, _stride;
        private readonly int _ie, _ih, _ifw, _ifb, _ip, _ix, _ic, _isn, _ia;
        private readonly Dictionary<string, string> _subs;
        private readonly StringBuilder _sb = new();

        public Writer(TransformerArchitecture a, ShardShape s, double eps, bool alignFfnWidth)
        {
            _arch = a;
            _shape = s;
            _ln = _arch.Norm == NormKind.LayerNorm;
            _gated = _arch.Ffn == FfnKind.Gated;
            _tp = _shape.Shard.TensorParallelDegree > 1;
            _moe = _arch.IsMixtureOfExperts;

            // Tensor offsets and shape literals, shared with the other decoder script.
            (_n1w, _n1b, _qkvw, _qkvb, _ow, _ob, _n2w, _n2b, _uw, _ub, _dw, _db, _moeFirst, _stride) = ScriptTensorLayout.LayerOf(_arch, _shape);
            (_ie, _ih, _ifw, _ifb, _ip, _ix, _ic, _isn, _ia) = ScriptTensorLayout.GlobalsOf(_arch, _shape);
            _subs = ScriptTensorLayout.Substitutions(_shape, eps, alignFfnWidth, _stride);

            _rotary = _arch.Positions == PositionalScheme.Rotary;
            _alibi = _arch.Positions == PositionalScheme.Alibi;
            // Sliding-window attention (Mistral): position i sees positions i - W + 1 .. i; the masks below add the band.
            _window = _arch.SlidingWindowTokens;
            _masked = _alibi || _window is not null;
            if (_window is { } w0)
            {
                _subs["W"] = I(w0);
            }
        }

        public string Write()
        {
            if (_moe)
            {
                MixtureOfExpertsScript.Emit(_sb, _arch, _shape, _moeFirst);
            }

            WholeGenerationPasses();
            StaticSteps();
            if (_shape.HasHead)
            {
                FusedStepPieces();
            }

            return _sb.ToString();
        }

        private static string W(int i) => $"w[b + {i}]";
        // One row (decode steps, the head): LayerNorm as a one-group GroupNorm, the same arithmetic, whose kernel spreads a
        // single row over more threads (H100, one bf16 row: 9.3 against 14.2 us at h = 12288, equal at 4096;
        // benchmarks/python/decode_gemv_variants.py).
        private string Norm(string x, string wExpr, string? bExpr, bool oneRow = false) => _ln
            ? oneRow
                ? $"torch.group_norm({x}.view(1, HID, 1), 1, {wExpr}, {bExpr}, EPS).view(1, HID)"
                : $"torch.layer_norm({x}, [HID], {wExpr}, {bExpr}, EPS)"
            : $"torch.rms_norm({x}, [HID], {wExpr}, EPS)";

        // x @ W^T (+ bias): the weights arrive as transposed views, so this is one GEMM (bias in its epilogue where cuBLAS can).
        private static string Proj(string x, int wi, int bi, string? outArg = null)
        {
            var o = outArg is null ? string.Empty : $", out={outArg}";
            return bi >= 0 ? $"torch.addmm({W(bi)}, {x}, {W(wi)}{o})" : $"torch.mm({x}, {W(wi)}{o})";
        }

        private void L(string line) => _sb.Append(ScriptTemplate.Substitute(line, _subs)).Append('\n');


        // Row-parallel projection y @ W^T (+ bias on rank 0): in place into the residual x (whole generation: the shard's
        // all-reduce is modelled, not run), or returned as this rank's partial sum for a driver to all-reduce.
        private void RowParallel(string indent, string y, int wi, int bi, bool partial)
        {
            if (partial)
            {
                L($"{indent}return {Proj(y, wi, bi)}");
                return;
            }

            L($"{indent}x.addmm_({y}, {W(wi)})");
            if (bi >= 0)
            {
                L($"{indent}x.add_({W(bi)})");
            }
        }

        // The FFN's activation of the normed y (the gate-up GEMM emitted first when gated), as an expression. The weights
        // are stored FP wide (DecoderBlock pads an odd width with zeros): the activation is FP wide, zero past F, so the
        // down projection reads aligned rows.
        private string FfnActivation(string indent)
        {
            if (!_gated)
            {
                return $"torch.gelu({Proj("y", _uw, _ub)}, approximate='tanh')";
            }

            L($"{indent}gu = {Proj("y", _uw, _ub)}");
            return "torch.silu(gu.narrow(1, 0, FP)) * gu.narrow(1, F, FP)";
        }

        // routes: the expression of this pass's rows of the layer's routing table (a mixture only).
        private void Ffn(string indent, bool partial, bool oneRow = false, string routes = "")
        {
            // Sequential: norm 2 of x, which now holds the attention's sum. A driver's FFN half of a parallel block gets the
            // layer's input as x and norms it as the block does. Inside a parallel block's pass x has taken the attention's
            // sum in place, so the FFN reads what InputNorms wrote before it: y2 (norm 2) or y itself (the shared norm).
            var block = _arch.Block;
            if (block == BlockLayout.Sequential || (partial && block == BlockLayout.Parallel))
            {
                L($"{indent}y = {Norm("x", W(_n2w), _ln ? W(_n2b) : null, oneRow)}");
            }
            else if (partial)
            {
                L($"{indent}y = {Norm("x", W(_n1w), _ln ? W(_n1b) : null, oneRow)}");
            }
            else if (block == BlockLayout.Parallel)
            {
                L($"{indent}y = y2");
            }

            if (_moe)
            {
                var call = $"_moe(y, {string.Format(CultureInfo.InvariantCulture, routes, W(_moeFirst + 1))}, w, b)";
                L(partial ? $"{indent}return {call}" : $"{indent}x.add_({call})");
                return;
            }

            RowParallel(indent, FfnActivation(indent), _dw, _db, partial);
        }

        // The layer input's norms: y = norm 1 for attention; in a parallel block with two norms also y2 = norm 2 for the
        // FFN, taken before the attention's sum goes into x (a driver's partial halves each norm the input they are given).
        private void InputNorms(string indent, bool partial, bool oneRow)
        {
            L($"{indent}y = {Norm("x", W(_n1w), _ln ? W(_n1b) : null, oneRow)}");
            if (!partial && _arch.Block == BlockLayout.Parallel)
            {
                L($"{indent}y2 = {Norm("x", W(_n2w), _ln ? W(_n2b) : null, oneRow)}");
            }
        }

        // Attention of the T tokens in x (positions 0..T-1) against the cache, whose rows they fill.
        private void PrefillAttention(string indent, bool partial)
        {
            InputNorms(indent, partial, oneRow: false);
            // The fused QKV GEMM writes straight into the cache rows [T, H + 2·KV, HD]: no copy of the new keys and values.
            L($"{indent}qkv = kvc[i].narrow(0, 0, T)");
            L($"{indent}{Proj("y", _qkvw, _qkvb, "qkv.view(T, QKV * HD)")}");
            if (_rotary)
            {
                L($"{indent}qk = qkv.narrow(1, 0, QK)");
                L($"{indent}qk.copy_(qk * c + qk.roll(HALF, -1) * s)");
            }

            L($"{indent}q = qkv.narrow(1, 0, H).transpose(0, 1).unsqueeze(0)");
            L(_masked
                ? $"{indent}a = torch.scaled_dot_product_attention(q, kk[i].narrow(2, 0, T), vv[i].narrow(2, 0, T), m, 0.0, False{{GQA}})"
                : $"{indent}a = torch.scaled_dot_product_attention(q, kk[i].narrow(2, 0, T), vv[i].narrow(2, 0, T), None, 0.0, True{{GQA}})");
            // Heads enter the output projection in (group, kv head) order, the order a decode step's attention produces.
            RowParallel(indent, "a.view(KV, G, T, HD).permute(2, 1, 0, 3).reshape(T, AW)", _ow, _ob, partial);
        }

        private void DecodeAttention(string indent, bool partial)
        {
            InputNorms(indent, partial, oneRow: true);
            L($"{indent}qkv = kvc[i][pos]");
            L($"{indent}{Proj("y", _qkvw, _qkvb, "qkv.view(1, QKV * HD)")}");
            if (_rotary)
            {
                // Rotate-half rotary in place: q·cos + roll(q, HALF)·[-sin, sin].
                L($"{indent}qk = qkv.narrow(0, 0, QK)");
                L($"{indent}r = qk.roll(HALF, -1)");
                L($"{indent}qk.mul_(c).addcmul_(r, s)");
            }

            // One query token per head, GQA through enable_gqa (query head j uses KV head j // G). Measured on an H100 at
            // context 1537 (benchmarks/python/decode_attention_variants.py): 9 us for Llama-3-8B's 32/8 heads, against 27-42 us
            // when the G query heads of a KV head go in as G queries of one head, which gives the kernel only KV blocks of work.
            var first = _window is null ? "0" : "L0";
            var length = _window is null ? "L" : "L - L0";
            L($"{indent}a = torch.scaled_dot_product_attention(qkv.narrow(0, 0, H).view(1, H, 1, HD), kk[i].narrow(2, {first}, {length}), vv[i].narrow(2, {first}, {length}), {(_alibi ? "m" : "None")}, 0.0, False{{GQA}})");
            RowParallel(indent, "a.view(KV, G, HD).transpose(0, 1).reshape(1, AW)", _ow, _ob, partial);
        }

        private void PrefillTables(string indent)
        {
            if (_rotary)
            {
                L($"{indent}c = g[{_ic}].narrow(0, 0, T).unsqueeze(1)");
                L($"{indent}s = g[{_isn}].narrow(0, 0, T).unsqueeze(1)");
            }

            if (_alibi)
            {
                L($"{indent}m = (g[{_ia}].narrow(1, 0, T).unsqueeze(1) + torch.full([T, T], float('-inf'), dtype=x.dtype, device=x.device).triu(1)).unsqueeze(0)");
            }

            if (_window is not null)
            {
                // Causal band: i - j in [0, W).
                L($"{indent}d = torch.arange(T, device=x.device).unsqueeze(1) - torch.arange(T, device=x.device).unsqueeze(0)");
                L($"{indent}band = (d < 0) | (d >= W)");
                L(_alibi
                    ? $"{indent}m = m.masked_fill(band.view(1, 1, T, T), float('-inf'))"
                    : $"{indent}m = torch.zeros([T, T], dtype=x.dtype, device=x.device).masked_fill(band, float('-inf'))");
            }
        }

        private void DecodeTables(string indent)
        {
            L($"{indent}L = pos + 1");
            if (_window is not null)
            {
                L($"{indent}L0 = max(0, L - W)");
            }

            if (_rotary)
            {
                L($"{indent}c = g[{_ic}][pos]");
                L($"{indent}s = g[{_isn}][pos]");
            }

            if (_alibi)
            {
                L(_window is null
                    ? $"{indent}m = g[{_ia}].narrow(1, 0, L).view(1, H, 1, L)"
                    : $"{indent}m = g[{_ia}].narrow(1, L0, L - L0).view(1, H, 1, L - L0)");
            }
        }

        // Embedding. A vocabulary-parallel shard looks up only its own rows (others give zeros, summed by the all-reduce);
        // learned positions are added by rank 0 only, so the sum has them once. A later pipeline stage reads its input.
        // rows(table) reads the positions' rows of a per-position table: a view from an int start (eager) or a gathered copy
        // at a device-tensor position (static).
        private void Embed(string name, string positionType, Func<string, string> rows, bool rowsAreView)
        {
            L($"def {name}(t: Tensor, pos: {positionType}, g: List[Tensor]) -> Tensor:");
            if (!_shape.HasEmbedding)
            {
                // A copy, so the stage's residual updates in place never write into its input.
                L($"    return {rows($"g[{_ix}]")}{(rowsAreView ? ".clone()" : string.Empty)}");
                return;
            }

            var lookup = _tp
                ? $"torch.embedding(g[{_ie}], (t - VS).clamp(0, VR - 1)) * ((t >= VS) & (t < VS + VV)).unsqueeze(1).to(g[{_ie}].dtype)"
                : $"torch.embedding(g[{_ie}], t)";
            L(_ip >= 0 && _shape.HasRowParallelBias ? $"    return {lookup} + {rows($"g[{_ip}]")}" : $"    return {lookup}");
        }
    }
}
