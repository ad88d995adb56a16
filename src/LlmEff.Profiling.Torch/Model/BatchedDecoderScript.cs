using System.Text;
using LlmEff.Core.Architecture;

namespace LlmEff.Profiling.Torch;

/// <summary>
/// Writes the TorchScript of a static batch of <c>B</c> queries with the same prompt length: batched prefill of a
/// <c>[B, p]</c> prompt, and a static-shape decode step of <c>B</c> tokens at one shared position (every query of the
/// batch is at the same position, since they share <c>p</c>), which <see cref="BatchedGreedyDecoder"/> captures as CUDA
/// graphs. The cache of layer <c>i</c> is <c>[B, T, H + 2·KV, HD]</c>: the batch-1 layout of <see cref="DecoderScript"/>
/// with a leading batch dimension, so a decode step reads the weights once and each query's keys and values.
/// </summary>
internal static class BatchedDecoderScript
{
    /// <summary>The script of one shard <paramref name="s"/> of <paramref name="a"/> (collectives left out, as in the batch-1 whole-generation functions).</summary>
    public static string Build(TransformerArchitecture a, ShardShape s, double eps, bool alignFfnWidth = true)
    {
        var ln = a.Norm == NormKind.LayerNorm;
        var gated = a.Ffn == FfnKind.Gated;
        var tp = s.Shard.TensorParallelDegree > 1;

        // Tensor offsets and shape literals, shared with the other decoder script.
        var (n1w, n1b, qkvw, qkvb, ow, ob, n2w, n2b, uw, ub, dw, db, _, stride) = ScriptTensorLayout.LayerOf(a, s);
        var (ie, ih, ifw, ifb, ip, ix, ic, isn, ia) = ScriptTensorLayout.GlobalsOf(a, s);
        var c = ScriptTensorLayout.Substitutions(s, eps, alignFfnWidth, stride);

        var rotary = a.Positions == PositionalScheme.Rotary;
        var alibi = a.Positions == PositionalScheme.Alibi;
        string W(int i) => $"w[b + {i}]";
        string Norm(string x, string wExpr, string? bExpr) => ln
            ? $"torch.layer_norm({x}, [HID], {wExpr}, {bExpr}, EPS)"
            : $"torch.rms_norm({x}, [HID], {wExpr}, EPS)";
        string Proj(string x, int wi, int bi) => bi >= 0 ? $"torch.addmm({W(bi)}, {x}, {W(wi)})" : $"torch.mm({x}, {W(wi)})";

        var sb = new StringBuilder();
        void L(string line) => sb.Append(ScriptTemplate.Substitute(line, c)).Append('\n');

        // Row-parallel projection into the residual x (rows = B·T or B); the shard's all-reduce is modelled, not run.
        void RowParallel(string indent, string y, int wi, int bi)
        {
            L($"{indent}x.addmm_({y}, {W(wi)})");
            if (bi >= 0)
            {
                L($"{indent}x.add_({W(bi)})");
            }
        }

        void Ffn(string indent)
        {
            // Parallel blocks: the FFN reads the layer's input normed before the attention's sum went into x, y2 (GPT-NeoX),
            // or the shared norm's y itself (GPT-J).
            if (a.Block == BlockLayout.Sequential)
            {
                L($"{indent}y = {Norm("x", W(n2w), ln ? W(n2b) : null)}");
            }
            else if (a.Block == BlockLayout.Parallel)
            {
                L($"{indent}y = y2");
            }
            if (gated)
            {
                L($"{indent}gu = {Proj("y", uw, ub)}");
                RowParallel(indent, "torch.silu(gu.narrow(1, 0, FP)) * gu.narrow(1, F, FP)", dw, db);
            }
            else
            {
                RowParallel(indent, $"torch.gelu({Proj("y", uw, ub)}, approximate='tanh')", dw, db);
            }
        }

        var sig = "w: List[Tensor], g: List[Tensor], kvc: List[Tensor], kk: List[Tensor], vv: List[Tensor]";
        var args = "w, g, kvc, kk, vv";

        // Prefill of B prompts of T tokens: x is [B·T, h]; the keys and values go into rows 0..T-1 of each query's cache.
        L($"def _prefill_layers(x: Tensor, B: int, T: int, {sig}) -> Tensor:");
        if (rotary)
        {
            L($"    c = g[{ic}].narrow(0, 0, T).unsqueeze(1)");
            L($"    s = g[{isn}].narrow(0, 0, T).unsqueeze(1)");
        }

        if (alibi)
        {
            L($"    m = (g[{ia}].narrow(1, 0, T).unsqueeze(1) + torch.full([T, T], float('-inf'), dtype=x.dtype, device=x.device).triu(1)).unsqueeze(0)");
        }

        L("    for i in range(NL):");
        L("        b = i * S");
        L($"        y = {Norm("x", W(n1w), ln ? W(n1b) : null)}");
        if (a.Block == BlockLayout.Parallel)
        {
            // The parallel block's second norm, of the layer's input, before the attention's sum goes into x.
            L($"        y2 = {Norm("x", W(n2w), ln ? W(n2b) : null)}");
        }
        L($"        qkv = {Proj("y", qkvw, qkvb)}.view(B, T, QKV, HD)");
        if (rotary)
        {
            L("        qk = qkv.narrow(2, 0, QK)");
            L("        qk.copy_(qk * c + qk.roll(HALF, -1) * s)");
        }

        L("        kvc[i].narrow(1, 0, T).copy_(qkv)");
        L("        q = qkv.narrow(2, 0, H).transpose(1, 2)");
        L(alibi
            ? "        a = torch.scaled_dot_product_attention(q, kk[i].narrow(2, 0, T), vv[i].narrow(2, 0, T), m, 0.0, False{GQA})"
            : "        a = torch.scaled_dot_product_attention(q, kk[i].narrow(2, 0, T), vv[i].narrow(2, 0, T), None, 0.0, True{GQA})");
        // Heads enter the output projection in (group, kv head) order, as in the batch-1 script.
        RowParallel("        ", "a.view(B, KV, G, T, HD).permute(0, 3, 2, 1, 4).reshape(B * T, AW)", ow, ob);
        Ffn("        ");
        L("    return x");
        L(string.Empty);

        // Embedding of [B, T] tokens at positions 0..T-1 (prefill) or of [B] tokens at one device position (decode).
        var lookup = tp
            ? $"(torch.embedding(g[{ie}], (t - VS).clamp(0, VR - 1)) * ((t >= VS) & (t < VS + VV)).unsqueeze(-1).to(g[{ie}].dtype))"
            : $"torch.embedding(g[{ie}], t)";
        L("def _embed_prefill(t: Tensor, g: List[Tensor]) -> Tensor:");
        L("    B = t.size(0)");
        L("    T = t.size(1)");
        if (!s.HasEmbedding)
        {
            L($"    return g[{ix}].narrow(0, 0, T).unsqueeze(0).expand(B, T, HID).reshape(B * T, HID).clone()");
        }
        else
        {
            L(ip >= 0 && s.HasRowParallelBias
                ? $"    return ({lookup} + g[{ip}].narrow(0, 0, T).unsqueeze(0)).view(B * T, HID)"
                : $"    return {lookup}.view(B * T, HID)");
        }

        L(string.Empty);
        L("def _embed_at(t: Tensor, pos: Tensor, g: List[Tensor]) -> Tensor:");
        if (!s.HasEmbedding)
        {
            L($"    return g[{ix}].index_select(0, pos).expand(t.size(0), HID).clone()");
        }
        else
        {
            L(ip >= 0 && s.HasRowParallelBias ? $"    return {lookup} + g[{ip}].index_select(0, pos)" : $"    return {lookup}");
        }

        L(string.Empty);

        // Head: this shard's vocabulary logits of each query's last position, [B, vocab rows].
        L("def _head(x: Tensor, g: List[Tensor]) -> Tensor:");
        if (s.HasHead)
        {
            L($"    y = {Norm("x", $"g[{ifw}]", ln ? $"g[{ifb}]" : null)}");
            L($"    return torch.mm(y, g[{ih}])");
        }
        else
        {
            L("    return x");
        }

        L(string.Empty);
        L("def _choose(logits: Tensor) -> Tensor:");
        L(tp && s.HasHead ? "    return torch.argmax(logits.narrow(1, 0, VV), -1) + VS" : "    return torch.argmax(logits, -1)");
        L(string.Empty);
        L($"def prefill_logits(tokens: Tensor, {sig}) -> Tensor:");
        L("    B = tokens.size(0)");
        L("    T = tokens.size(1)");
        L($"    x = _prefill_layers(_embed_prefill(tokens, g), B, T, {args})");
        L("    return _head(x.view(B, T, HID).select(1, T - 1), g)");
        L(string.Empty);
        L("# Prompt encoding of the batch; leaves each query's first output token in t and hist[:, p], and p in pos.");
        L($"def prefill_static(tokens: Tensor, t: Tensor, pos: Tensor, hist: Tensor, {sig}) -> Tensor:");
        L("    p = tokens.size(1)");
        if (s.HasHead)
        {
            L($"    nt = _choose(prefill_logits(tokens, {args}))");
            L("    t.copy_(nt)");
        }
        else
        {
            L($"    prefill_logits(tokens, {args})");
            L("    t.copy_(tokens.select(1, p - 1))");
        }

        L("    hist.select(1, p).copy_(t)");
        L("    pos.fill_(p)");
        L("    return t");
        L(string.Empty);

        // The window's additive mask: positions after pos are -inf (as in the batch-1 static step).
        L("def _static_mask(x: Tensor, pos: Tensor, LB: int, g: List[Tensor]) -> Tensor:");
        L("    ar = torch.arange(LB, device=pos.device)");
        L(alibi
            ? $"    return g[{ia}].narrow(1, 0, LB).view(1, H, 1, LB).masked_fill((ar > pos).view(1, 1, 1, LB), float('-inf'))"
            : "    return torch.zeros([1, 1, 1, LB], dtype=x.dtype, device=x.device).masked_fill((ar > pos).view(1, 1, 1, LB), float('-inf'))");
        L(string.Empty);
        L("# One step of the B tokens in t at the shared position pos (attending to the first LB > pos positions): t becomes");
        L("# the next tokens, written to hist[:, pos + 1], and pos advances. Static shapes, no host reads: capturable.");
        L($"def decode_static(t: Tensor, pos: Tensor, hist: Tensor, LB: int, {sig}) -> Tensor:");
        L("    B = t.size(0)");
        L("    x = _embed_at(t, pos, g)");
        if (rotary)
        {
            L($"    c = g[{ic}].index_select(0, pos)");
            L($"    s = g[{isn}].index_select(0, pos)");
        }

        L("    m = _static_mask(x, pos, LB, g)");
        L("    for i in range(NL):");
        L("        b = i * S");
        L($"        y = {Norm("x", W(n1w), ln ? W(n1b) : null)}");
        if (a.Block == BlockLayout.Parallel)
        {
            // The parallel block's second norm, of the layer's input, before the attention's sum goes into x.
            L($"        y2 = {Norm("x", W(n2w), ln ? W(n2b) : null)}");
        }
        L($"        qkv = {Proj("y", qkvw, qkvb)}.view(B, QKV, HD)");
        if (rotary)
        {
            L("        qk = qkv.narrow(1, 0, QK)");
            L("        r = qk.roll(HALF, -1)");
            L("        qk.mul_(c).addcmul_(r, s)");
        }

        L("        kvc[i].index_copy_(1, pos, qkv.unsqueeze(1))");
        L("        a = torch.scaled_dot_product_attention(qkv.narrow(1, 0, H).view(B, H, 1, HD), kk[i].narrow(2, 0, LB), vv[i].narrow(2, 0, LB), m, 0.0, False{GQA})");
        RowParallel("        ", "a.view(B, KV, G, HD).transpose(1, 2).reshape(B, AW)", ow, ob);
        Ffn("        ");
        if (s.HasHead)
        {
            L("    t.copy_(_choose(_head(x, g)))");
        }

        L("    hist.index_copy_(1, pos + 1, t.view(B, 1))");
        L("    pos.add_(1)");
        L("    return t");
        if (s.HasHead)
        {
            FusedStepPieces();
        }

        return sb.ToString();

        // The decode step in pieces (_embed_at, then these per layer, then f_head) for a driver that launches fused kernels
        // between them (DecodeKernels, DecodeAttention): the norm with the pending row-parallel bias, the rotary + cache
        // write, the attention and a gated FFN's activation. The *_ref functions compute what those kernels do, for running
        // the same sequence without them (CPU tests, and attention the kernel does not serve).
        void FusedStepPieces()
        {
            L(string.Empty);
            L("def f_qkv(y: Tensor, i: int, w: List[Tensor]) -> Tensor:");
            L("    b = i * S");
            L($"    return {Proj("y", qkvw, qkvb)}.view(y.size(0), QKV, HD)");
            L(string.Empty);
            L("def f_attn_ref(q: Tensor, i: int, LB: int, m: Tensor, a: Tensor, kk: List[Tensor], vv: List[Tensor]) -> Tensor:");
            L("    B = q.size(0)");
            L("    r = torch.scaled_dot_product_attention(q.view(B, H, 1, HD), kk[i].narrow(2, 0, LB), vv[i].narrow(2, 0, LB), m, 0.0, False{GQA})");
            L("    a.copy_(r.view(B, KV, G, HD).transpose(1, 2).reshape(B, AW))");
            L("    return a");
            L(string.Empty);

            // Row-parallel projections without their biases: the next norm adds them (DecodeKernels.Norm).
            L("def f_out(x: Tensor, a: Tensor, i: int, w: List[Tensor]) -> Tensor:");
            L("    b = i * S");
            L($"    x.addmm_(a, {W(ow)})");
            L("    return x");
            L(string.Empty);
            // The projections into a buffer instead of the residual, for a step whose next norm adds them (deferred adds).
            L("def f_out_mm(a: Tensor, i: int, w: List[Tensor], o: Tensor) -> Tensor:");
            L("    b = i * S");
            L($"    return torch.mm(a, {W(ow)}, out=o)");
            L(string.Empty);
            if (gated)
            {
                L("def f_gate_up(y: Tensor, i: int, w: List[Tensor]) -> Tensor:");
                L("    b = i * S");
                L($"    return {Proj("y", uw, ub)}");
                L(string.Empty);
                L("def f_silu_mul_ref(gu: Tensor, act: Tensor) -> Tensor:");
                L("    act.copy_(torch.silu(gu.narrow(1, 0, FP)) * gu.narrow(1, F, FP))");
                L("    return act");
                L(string.Empty);
                L("def f_down(x: Tensor, act: Tensor, i: int, w: List[Tensor]) -> Tensor:");
                L("    b = i * S");
                L($"    x.addmm_(act, {W(dw)})");
                L("    return x");
                L(string.Empty);
                L("def f_down_mm(act: Tensor, i: int, w: List[Tensor], o: Tensor) -> Tensor:");
                L("    b = i * S");
                L($"    return torch.mm(act, {W(dw)}, out=o)");
            }
            else
            {
                L("def f_ffn(x: Tensor, y: Tensor, i: int, w: List[Tensor]) -> Tensor:");
                L("    b = i * S");
                L($"    x.addmm_(torch.gelu({Proj("y", uw, ub)}, approximate='tanh'), {W(dw)})");
                L("    return x");
            }

            L(string.Empty);
            FusedStepReferenceScript.Emit(L, batched: true, ih, Norm("x", "nw", ln ? "nb" : null), rotary, ic, isn);
        }
    }
}
