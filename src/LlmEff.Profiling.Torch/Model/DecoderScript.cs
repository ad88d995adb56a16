using System.Globalization;
using System.Text;
using LlmEff.Core.Architecture;

namespace LlmEff.Profiling.Torch;

/// <summary>
/// Writes the TorchScript source of one architecture's KV-cached forward passes. Running a whole decode step (and the
/// whole generation loop) inside TorchScript dispatches every op from C++: a TorchSharp call costs about 12 us of host
/// time, which at ~40 ops per layer would make a 6-8B decode step host-bound (shared/gpu/README.md). Shapes and flags
/// are baked in as literals, so the script has no architecture branches.
/// </summary>
internal static class DecoderScript
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
    public static string Build(TransformerArchitecture a, ShardShape s, double eps, bool alignFfnWidth = true)
    {
        var ln = a.Norm == NormKind.LayerNorm;
        var bias = a.LinearBiases;
        var gated = a.Ffn == FfnKind.Gated;
        var tp = s.Shard.TensorParallelDegree > 1;
        var moe = a.IsMixtureOfExperts;

        // Tensor offsets and shape literals, shared with the other decoder script.
        var (n1w, n1b, qkvw, qkvb, ow, ob, n2w, n2b, uw, ub, dw, db, moeFirst, stride) = ScriptTensorLayout.LayerOf(a, s);
        var (ie, ih, ifw, ifb, ip, ix, ic, isn, ia) = ScriptTensorLayout.GlobalsOf(a, s);
        var c = ScriptTensorLayout.Substitutions(s, eps, alignFfnWidth, stride);

        var rotary = a.Positions == PositionalScheme.Rotary;
        var alibi = a.Positions == PositionalScheme.Alibi;
        // Sliding-window attention (Mistral): position i sees positions i - W + 1 .. i; the masks below add the band.
        var window = a.SlidingWindowTokens;
        var masked = alibi || window is not null;
        if (window is { } w0)
        {
            c["W"] = I(w0);
        }
        string W(int i) => $"w[b + {i}]";
        // One row (decode steps, the head): LayerNorm as a one-group GroupNorm, the same arithmetic, whose kernel spreads a
        // single row over more threads (H100, one bf16 row: 9.3 against 14.2 us at h = 12288, equal at 4096;
        // benchmarks/python/decode_gemv_variants.py).
        string Norm(string x, string wExpr, string? bExpr, bool oneRow = false) => ln
            ? oneRow
                ? $"torch.group_norm({x}.view(1, HID, 1), 1, {wExpr}, {bExpr}, EPS).view(1, HID)"
                : $"torch.layer_norm({x}, [HID], {wExpr}, {bExpr}, EPS)"
            : $"torch.rms_norm({x}, [HID], {wExpr}, EPS)";

        // x @ W^T (+ bias): the weights arrive as transposed views, so this is one GEMM (bias in its epilogue where cuBLAS can).
        string Proj(string x, int wi, int bi, string? outArg = null)
        {
            var o = outArg is null ? string.Empty : $", out={outArg}";
            return bi >= 0 ? $"torch.addmm({W(bi)}, {x}, {W(wi)}{o})" : $"torch.mm({x}, {W(wi)}{o})";
        }

        var sb = new StringBuilder();
        void L(string line) => sb.Append(ScriptTemplate.Substitute(line, c)).Append('\n');

        // Row-parallel projection y @ W^T (+ bias on rank 0): in place into the residual x (whole generation: the shard's
        // all-reduce is modelled, not run), or returned as this rank's partial sum for a driver to all-reduce.
        void RowParallel(string indent, string y, int wi, int bi, bool partial)
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
        string FfnActivation(string indent)
        {
            if (!gated)
            {
                return $"torch.gelu({Proj("y", uw, ub)}, approximate='tanh')";
            }

            L($"{indent}gu = {Proj("y", uw, ub)}");
            return "torch.silu(gu.narrow(1, 0, FP)) * gu.narrow(1, F, FP)";
        }

        // routes: the expression of this pass's rows of the layer's routing table (a mixture only).
        void Ffn(string indent, bool partial, bool oneRow = false, string routes = "")
        {
            L($"{indent}y = {Norm("x", W(n2w), ln ? W(n2b) : null, oneRow)}");
            if (moe)
            {
                var call = $"_moe(y, {string.Format(CultureInfo.InvariantCulture, routes, W(moeFirst + 1))}, w, b)";
                L(partial ? $"{indent}return {call}" : $"{indent}x.add_({call})");
                return;
            }

            RowParallel(indent, FfnActivation(indent), dw, db, partial);
        }

        // Attention of the T tokens in x (positions 0..T-1) against the cache, whose rows they fill.
        void PrefillAttention(string indent, bool partial)
        {
            L($"{indent}y = {Norm("x", W(n1w), ln ? W(n1b) : null)}");
            // The fused QKV GEMM writes straight into the cache rows [T, H + 2·KV, HD]: no copy of the new keys and values.
            L($"{indent}qkv = kvc[i].narrow(0, 0, T)");
            L($"{indent}{Proj("y", qkvw, qkvb, "qkv.view(T, QKV * HD)")}");
            if (rotary)
            {
                L($"{indent}qk = qkv.narrow(1, 0, QK)");
                L($"{indent}qk.copy_(qk * c + qk.roll(HALF, -1) * s)");
            }

            L($"{indent}q = qkv.narrow(1, 0, H).transpose(0, 1).unsqueeze(0)");
            L(masked
                ? $"{indent}a = torch.scaled_dot_product_attention(q, kk[i].narrow(2, 0, T), vv[i].narrow(2, 0, T), m, 0.0, False{{GQA}})"
                : $"{indent}a = torch.scaled_dot_product_attention(q, kk[i].narrow(2, 0, T), vv[i].narrow(2, 0, T), None, 0.0, True{{GQA}})");
            // Heads enter the output projection in (group, kv head) order, the order a decode step's attention produces.
            RowParallel(indent, "a.view(KV, G, T, HD).permute(2, 1, 0, 3).reshape(T, AW)", ow, ob, partial);
        }

        void DecodeAttention(string indent, bool partial)
        {
            L($"{indent}y = {Norm("x", W(n1w), ln ? W(n1b) : null, oneRow: true)}");
            L($"{indent}qkv = kvc[i][pos]");
            L($"{indent}{Proj("y", qkvw, qkvb, "qkv.view(1, QKV * HD)")}");
            if (rotary)
            {
                // Rotate-half rotary in place: q·cos + roll(q, HALF)·[-sin, sin].
                L($"{indent}qk = qkv.narrow(0, 0, QK)");
                L($"{indent}r = qk.roll(HALF, -1)");
                L($"{indent}qk.mul_(c).addcmul_(r, s)");
            }

            // One query token per head, GQA through enable_gqa (query head j uses KV head j // G). Measured on an H100 at
            // context 1537 (benchmarks/python/decode_attention_variants.py): 9 us for Llama-3-8B's 32/8 heads, against 27-42 us
            // when the G query heads of a KV head go in as G queries of one head, which gives the kernel only KV blocks of work.
            var first = window is null ? "0" : "L0";
            var length = window is null ? "L" : "L - L0";
            L($"{indent}a = torch.scaled_dot_product_attention(qkv.narrow(0, 0, H).view(1, H, 1, HD), kk[i].narrow(2, {first}, {length}), vv[i].narrow(2, {first}, {length}), {(alibi ? "m" : "None")}, 0.0, False{{GQA}})");
            RowParallel(indent, "a.view(KV, G, HD).transpose(0, 1).reshape(1, AW)", ow, ob, partial);
        }

        void PrefillTables(string indent)
        {
            if (rotary)
            {
                L($"{indent}c = g[{ic}].narrow(0, 0, T).unsqueeze(1)");
                L($"{indent}s = g[{isn}].narrow(0, 0, T).unsqueeze(1)");
            }

            if (alibi)
            {
                L($"{indent}m = (g[{ia}].narrow(1, 0, T).unsqueeze(1) + torch.full([T, T], float('-inf'), dtype=x.dtype, device=x.device).triu(1)).unsqueeze(0)");
            }

            if (window is not null)
            {
                // Causal band: i - j in [0, W).
                L($"{indent}d = torch.arange(T, device=x.device).unsqueeze(1) - torch.arange(T, device=x.device).unsqueeze(0)");
                L($"{indent}band = (d < 0) | (d >= W)");
                L(alibi
                    ? $"{indent}m = m.masked_fill(band.view(1, 1, T, T), float('-inf'))"
                    : $"{indent}m = torch.zeros([T, T], dtype=x.dtype, device=x.device).masked_fill(band, float('-inf'))");
            }
        }

        void DecodeTables(string indent)
        {
            L($"{indent}L = pos + 1");
            if (window is not null)
            {
                L($"{indent}L0 = max(0, L - W)");
            }

            if (rotary)
            {
                L($"{indent}c = g[{ic}][pos]");
                L($"{indent}s = g[{isn}][pos]");
            }

            if (alibi)
            {
                L(window is null
                    ? $"{indent}m = g[{ia}].narrow(1, 0, L).view(1, H, 1, L)"
                    : $"{indent}m = g[{ia}].narrow(1, L0, L - L0).view(1, H, 1, L - L0)");
            }
        }

        if (moe)
        {
            MixtureOfExpertsScript.Emit(sb, a, s, moeFirst);
        }

        var sig = "w: List[Tensor], g: List[Tensor], kvc: List[Tensor], kk: List[Tensor], vv: List[Tensor]";
        var args = "w, g, kvc, kk, vv";

        // Prompt encoding: x is [T, h]; the new keys/values go into the cache, and attention reads them back from it.
        L($"def _prefill_layers(x: Tensor, {sig}) -> Tensor:");
        L("    T = x.size(0)");
        PrefillTables("    ");
        L("    for i in range(NL):");
        L("        b = i * S");
        PrefillAttention("        ", partial: false);
        Ffn("        ", partial: false, routes: "{0}.narrow(0, 0, T)");
        L("    return x");
        L(string.Empty);

        // One decode step: x is [1, h]. Every update is in place, so a step allocates only a few small temporaries.
        L($"def _decode_layers(x: Tensor, pos: int, {sig}) -> Tensor:");
        DecodeTables("    ");
        L("    for i in range(NL):");
        L("        b = i * S");
        DecodeAttention("        ", partial: false);
        Ffn("        ", partial: false, oneRow: true, routes: "{0}.narrow(0, pos, 1)");
        L("    return x");
        L(string.Empty);

        // Per-layer partial sums for a tensor-parallel driver (one call per layer half; the driver all-reduces and adds).
        L($"def attn_prefill_partial(x: Tensor, i: int, {sig}) -> Tensor:");
        L("    T = x.size(0)");
        L("    b = i * S");
        PrefillTables("    ");
        PrefillAttention("    ", partial: true);
        L(string.Empty);
        L($"def attn_decode_partial(x: Tensor, i: int, pos: int, {sig}) -> Tensor:");
        L("    b = i * S");
        DecodeTables("    ");
        DecodeAttention("    ", partial: true);
        L(string.Empty);
        L("def ffn_partial(x: Tensor, i: int, w: List[Tensor]) -> Tensor:");
        L("    b = i * S");
        // The driver of real ranks runs dense models only (TensorParallelDecoder refuses a mixture); rows from 0 keep this valid.
        Ffn("    ", partial: true, routes: "{0}.narrow(0, 0, x.size(0))");
        L(string.Empty);

        // Embedding. A vocabulary-parallel shard looks up only its own rows (others give zeros, summed by the all-reduce);
        // learned positions are added by rank 0 only, so the sum has them once. A later pipeline stage reads its input.
        // rows(table) reads the positions' rows of a per-position table: a view from an int start (eager) or a gathered copy
        // at a device-tensor position (static).
        void Embed(string name, string positionType, Func<string, string> rows, bool rowsAreView)
        {
            L($"def {name}(t: Tensor, pos: {positionType}, g: List[Tensor]) -> Tensor:");
            if (!s.HasEmbedding)
            {
                // A copy, so the stage's residual updates in place never write into its input.
                L($"    return {rows($"g[{ix}]")}{(rowsAreView ? ".clone()" : string.Empty)}");
                return;
            }

            var lookup = tp
                ? $"torch.embedding(g[{ie}], (t - VS).clamp(0, VR - 1)) * ((t >= VS) & (t < VS + VV)).unsqueeze(1).to(g[{ie}].dtype)"
                : $"torch.embedding(g[{ie}], t)";
            L(ip >= 0 && s.HasRowParallelBias ? $"    return {lookup} + {rows($"g[{ip}]")}" : $"    return {lookup}");
        }

        Embed("_embed", "int", table => $"{table}.narrow(0, pos, t.size(0))", rowsAreView: true);

        L(string.Empty);
        L("def embed_partial(tokens: Tensor, pos: int, g: List[Tensor]) -> Tensor:");
        L("    return _embed(tokens.view(-1), pos, g)");
        L(string.Empty);

        // Head: this shard's vocabulary logits of the last position (a later stage without the head passes its hidden state on).
        L("def _head(x: Tensor, g: List[Tensor]) -> Tensor:");
        if (s.HasHead)
        {
            L($"    y = {Norm("x.narrow(0, x.size(0) - 1, 1)", $"g[{ifw}]", ln ? $"g[{ifb}]" : null, oneRow: true)}");
            L($"    return torch.mm(y, g[{ih}])");
        }
        else
        {
            L("    return x.narrow(0, x.size(0) - 1, 1)");
        }

        L(string.Empty);
        L("def head_logits(x: Tensor, g: List[Tensor]) -> Tensor:");
        L(tp && s.HasHead ? "    return _head(x, g).narrow(1, 0, VV)" : "    return _head(x, g)");
        L(string.Empty);
        L($"def prefill_logits(tokens: Tensor, {sig}) -> Tensor:");
        L("    t = tokens.view(-1)");
        L($"    return _head(_prefill_layers(_embed(t, 0, g), {args}), g).unsqueeze(0)");
        L(string.Empty);
        L($"def decode_logits(tokens: Tensor, pos: int, {sig}) -> Tensor:");
        L("    t = tokens.view(-1)");
        L($"    return _head(_decode_layers(_embed(t, pos, g), pos, {args}), g).unsqueeze(0)");
        L(string.Empty);

        // Greedy choice within the shard: its best valid row, as a global token id. (Across ranks the choice needs the
        // ranks' maxima, a tiny all-gather that the communication model counts.)
        L("def _choose(logits: Tensor) -> Tensor:");
        L(tp && s.HasHead ? "    return torch.argmax(logits.narrow(1, 0, VV), -1) + VS" : "    return torch.argmax(logits, -1)");
        L(string.Empty);
        L($"def _decode_next(t: Tensor, pos: int, {sig}) -> Tensor:");
        L(s.HasHead
            ? $"    return _choose(_head(_decode_layers(_embed(t, pos, g), pos, {args}), g))"
            : $"    _decode_layers(_embed(t, pos, g), pos, {args})\n    return t");
        L(string.Empty);
        L($"def decode_greedy(tokens: Tensor, pos: int, i: int, out: Tensor, {sig}) -> Tensor:");
        L($"    t = _decode_next(tokens.view(-1), pos, {args})");
        L("    out.narrow(1, i, 1).copy_(t.view(1, 1))");
        L("    return t.view(1, 1)");
        L(string.Empty);
        L("# Prompt encoding in one pass, then exactly o - 1 greedy single-token steps (no early stop): the paper's t(p, o).");
        L("# Tokens never leave the device, so nothing in the loop waits for the GPU.");
        L($"def generate(tokens: Tensor, o: int, out: Tensor, {sig}) -> Tensor:");
        L("    p = tokens.size(1)");
        L("    row = out.view(-1)");
        L($"    t = _choose(prefill_logits(tokens, {args}).view(1, -1))");
        L("    row.narrow(0, 0, 1).copy_(t)");
        L("    for i in range(1, o):");
        L($"        t = _decode_next(t, p + i - 1, {args})");
        L("        row.narrow(0, i, 1).copy_(t)");
        L("    return out");
        L(string.Empty);

        // Static-shape generation, for CUDA-graph capture and replay: the token, its position and the generated ids live in
        // device tensors that the step updates in place, and attention reads a fixed LB-position window of the cache with a
        // mask, so one captured step (per window size) replays for every position in its window. Nothing in it reads a
        // device value on the host.
        Embed("_embed_at", "Tensor", table => $"{table}.index_select(0, pos)", rowsAreView: false);

        L(string.Empty);
        // The window's mask: positions after pos are -inf. Additive, since cuDNN's attention takes a float mask about 20%
        // faster than a boolean one.
        L("def _static_mask(x: Tensor, pos: Tensor, LB: int, g: List[Tensor]) -> Tensor:");
        L("    ar = torch.arange(LB, device=pos.device)");
        var hidden = window is null ? "(ar > pos)" : "((ar > pos) | (ar <= pos - W))";
        L(alibi
            ? $"    return g[{ia}].narrow(1, 0, LB).view(1, H, 1, LB).masked_fill({hidden}.view(1, 1, 1, LB), float('-inf'))"
            : $"    return torch.zeros([1, 1, 1, LB], dtype=x.dtype, device=x.device).masked_fill({hidden}.view(1, 1, 1, LB), float('-inf'))");
        L(string.Empty);
        L($"def _decode_layers_static(x: Tensor, pos: Tensor, LB: int, {sig}) -> Tensor:");
        if (rotary)
        {
            L($"    c = g[{ic}].index_select(0, pos)");
            L($"    s = g[{isn}].index_select(0, pos)");
        }

        L("    m = _static_mask(x, pos, LB, g)");
        L("    for i in range(NL):");
        L("        b = i * S");
        L($"        y = {Norm("x", W(n1w), ln ? W(n1b) : null, oneRow: true)}");
        L($"        qkv = {Proj("y", qkvw, qkvb)}.view(QKV, HD)");
        if (rotary)
        {
            L("        qk = qkv.narrow(0, 0, QK)");
            L("        r = qk.roll(HALF, -1)");
            L("        qk.mul_(c).addcmul_(r, s)");
        }

        L("        kvc[i].index_copy_(0, pos, qkv.unsqueeze(0))");
        L("        a = torch.scaled_dot_product_attention(qkv.narrow(0, 0, H).view(1, H, 1, HD), kk[i].narrow(2, 0, LB), vv[i].narrow(2, 0, LB), m, 0.0, False{GQA})");
        RowParallel("        ", "a.view(KV, G, HD).transpose(0, 1).reshape(1, AW)", ow, ob, partial: false);
        Ffn("        ", partial: false, oneRow: true, routes: "{0}.index_select(0, pos)");
        L("    return x");
        L(string.Empty);
        L("# Prompt encoding; leaves the first output token in t and hist[p], and p in pos.");
        L($"def prefill_static(tokens: Tensor, t: Tensor, pos: Tensor, hist: Tensor, {sig}) -> Tensor:");
        L("    p = tokens.size(1)");
        L($"    nt = _choose(prefill_logits(tokens, {args}).view(1, -1))");
        L("    t.copy_(nt)");
        L("    hist.narrow(0, p, 1).copy_(nt)");
        L("    pos.fill_(p)");
        L("    return t");
        L(string.Empty);
        L("# One step for token t at position pos (attending to the first LB > pos positions): t becomes the next token,");
        L("# written to hist[pos + 1], and pos advances.");
        L($"def decode_static(t: Tensor, pos: Tensor, hist: Tensor, LB: int, {sig}) -> Tensor:");
        L($"    x = _decode_layers_static(_embed_at(t, pos, g), pos, LB, {args})");
        if (s.HasHead)
        {
            L("    t.copy_(_choose(_head(x, g)))");
        }

        L("    hist.index_copy_(0, pos + 1, t)");
        L("    pos.add_(1)");
        L("    return t");

        if (s.HasHead)
        {
            FusedStepPieces();
        }

        return sb.ToString();

        // The static step in pieces (_embed_at and _static_mask, then these), for a driver that launches two fused kernels
        // between them (DecodeKernels): the norm (with the pending row-parallel bias added to the residual first) and the
        // rotary + cache write. The *_ref functions are what those kernels compute, for running the same sequence without
        // them (CPU tests).
        void FusedStepPieces()
        {
            L(string.Empty);
            L("def f_qkv(y: Tensor, i: int, w: List[Tensor]) -> Tensor:");
            L("    b = i * S");
            L($"    return {Proj("y", qkvw, qkvb)}.view(QKV, HD)");
            L(string.Empty);
            L("def f_attn(x: Tensor, q: Tensor, i: int, LB: int, m: Tensor, w: List[Tensor], kk: List[Tensor], vv: List[Tensor]) -> Tensor:");
            L("    b = i * S");
            L("    a = torch.scaled_dot_product_attention(q.view(1, H, 1, HD), kk[i].narrow(2, 0, LB), vv[i].narrow(2, 0, LB), m, 0.0, False{GQA})");
            RowParallel("    ", "a.view(KV, G, HD).transpose(0, 1).reshape(1, AW)", ow, -1, partial: false);
            L("    return x");
            L(string.Empty);
            // Attention and its output projection apart, for the decode attention kernel (DecodeAttention) between them;
            // f_attn_ref is what the kernel computes: heads in (group, KV head) order, as the projection takes them.
            L("def f_attn_ref(q: Tensor, i: int, LB: int, m: Tensor, a: Tensor, kk: List[Tensor], vv: List[Tensor]) -> Tensor:");
            L("    r = torch.scaled_dot_product_attention(q.view(1, H, 1, HD), kk[i].narrow(2, 0, LB), vv[i].narrow(2, 0, LB), m, 0.0, False{GQA})");
            L("    a.copy_(r.view(KV, G, HD).transpose(0, 1).reshape(1, AW))");
            L("    return a");
            L(string.Empty);
            L("def f_out(x: Tensor, a: Tensor, i: int, w: List[Tensor]) -> Tensor:");
            L("    b = i * S");
            RowParallel("    ", "a", ow, -1, partial: false);
            L("    return x");
            L(string.Empty);
            if (moe)
            {
                // A mixture's FFN takes the step's position: its experts are that position's row of the routing table.
                L("def f_moe(x: Tensor, y: Tensor, i: int, pos: Tensor, w: List[Tensor]) -> Tensor:");
                L("    b = i * S");
                L($"    x.add_(_moe(y, {W(moeFirst + 1)}.index_select(0, pos), w, b))");
                L("    return x");
                L(string.Empty);

                // The router GEMM and the shared experts, between which MixtureOfExpertsKernels runs the routed experts.
                L("def f_moe_router(y: Tensor, i: int, w: List[Tensor]) -> Tensor:");
                L("    b = i * S");
                L($"    return torch.mm(y, {W(moeFirst)})");
                if (a.SharedExperts > 0)
                {
                    L(string.Empty);
                    L("def f_moe_shared(y: Tensor, i: int, w: List[Tensor]) -> Tensor:");
                    L("    b = i * S");
                    L("    return _moe_shared(y, w, b)");
                }
            }
            else
            {
                L("def f_ffn(x: Tensor, y: Tensor, i: int, w: List[Tensor]) -> Tensor:");
                L("    b = i * S");
                // The down projection's bias is left to the next norm (DecodeKernels.Norm adds it), like f_attn's output bias.
                RowParallel("    ", FfnActivation("    "), dw, -1, partial: false);
                L("    return x");
            }
            L(string.Empty);
            if (!moe)
            {
                TensorParallelStepPieces();
            }

            L("def f_head(y: Tensor, t: Tensor, pos: Tensor, hist: Tensor, g: List[Tensor]) -> Tensor:");
            L($"    t.copy_(_choose(torch.mm(y, g[{ih}])))");
            L("    hist.index_copy_(0, pos + 1, t)");
            L("    pos.add_(1)");
            L("    return t");
            L(string.Empty);
            L("def f_norm_ref(x: Tensor, add: Tensor, has_add: int, nw: Tensor, nb: Tensor, y: Tensor) -> Tensor:");
            L("    if has_add != 0:");
            L("        x.add_(add)");
            L($"    y.copy_({Norm("x", "nw", ln ? "nb" : null, oneRow: true)})");
            L("    return y");
            L(string.Empty);
            L("def f_rotary_ref(qkv: Tensor, q: Tensor, kvc_i: Tensor, pos: Tensor, g: List[Tensor]) -> Tensor:");
            if (rotary)
            {
                L("    qk = qkv.narrow(0, 0, QK)");
                L("    r = qk.roll(HALF, -1)");
                L($"    qk.mul_(g[{ic}].index_select(0, pos)).addcmul_(r, g[{isn}].index_select(0, pos))");
            }

            L("    kvc_i.index_copy_(0, pos, qkv.unsqueeze(0))");
            L("    q.copy_(qkv.narrow(0, 0, H))");
            L("    return q");
        }

        // The static step of a rank driven with real collectives between its pieces (TensorParallelDecoder's captured
        // step): the row-parallel projections return this rank's partial sums (bias on the rank that holds it), and the
        // greedy choice is made from every rank's best (logit, global id) pair, summed into one [N, 2] table by the
        // all-reduce (each rank writes its own row of zeros), so no rank needs another's logits.
        void TensorParallelStepPieces()
        {
            L("def f_out_partial(a: Tensor, i: int, w: List[Tensor]) -> Tensor:");
            L("    b = i * S");
            RowParallel("    ", "a", ow, ob, partial: true);
            L(string.Empty);
            L("def f_ffn_partial(y: Tensor, i: int, w: List[Tensor]) -> Tensor:");
            L("    b = i * S");
            RowParallel("    ", FfnActivation("    "), dw, db, partial: true);
            L(string.Empty);
            L("def f_head_pick(y: Tensor, slot: Tensor, g: List[Tensor]) -> Tensor:");
            L(tp ? $"    lg = torch.mm(y, g[{ih}]).narrow(1, 0, VV)" : $"    lg = torch.mm(y, g[{ih}])");
            L("    k = torch.argmax(lg, -1)");
            L($"    slot.copy_(torch.stack([lg.gather(1, k.view(1, 1)).view(1).float(), (k{(tp ? " + VS" : string.Empty)}).float()], 1))");
            L("    return slot");
            L(string.Empty);
            // The first best rank wins a tie, as the first best id of the gathered logits would.
            L("def f_head_choose(best: Tensor, t: Tensor, pos: Tensor, hist: Tensor) -> Tensor:");
            L("    r = torch.argmax(best.narrow(1, 0, 1).view(-1), -1)");
            L("    t.copy_(best.narrow(1, 1, 1).view(-1).index_select(0, r.view(1)).long())");
            L("    hist.index_copy_(0, pos + 1, t)");
            L("    pos.add_(1)");
            L("    return t");
            L(string.Empty);
        }
    }

    private static string I(int v) => v.ToString(CultureInfo.InvariantCulture);
}
