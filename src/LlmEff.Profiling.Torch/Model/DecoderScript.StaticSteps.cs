namespace LlmEff.Profiling.Torch;

/// <content>The static-shape decode step behind CUDA-graph replays: whole, in pieces for the fused kernels, and per tensor-parallel rank.</content>
internal static partial class DecoderScript
{
    private sealed partial class Writer
    {
        private void StaticSteps()
        {
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
            var hidden = _window is null ? "(ar > pos)" : "((ar > pos) | (ar <= pos - W))";
            L(_alibi
                ? $"    return g[{_ia}].narrow(1, 0, LB).view(1, H, 1, LB).masked_fill({hidden}.view(1, 1, 1, LB), float('-inf'))"
                : $"    return torch.zeros([1, 1, 1, LB], dtype=x.dtype, device=x.device).masked_fill({hidden}.view(1, 1, 1, LB), float('-inf'))");
            L(string.Empty);
            L($"def _decode_layers_static(x: Tensor, pos: Tensor, LB: int, {Sig}) -> Tensor:");
            if (_rotary)
            {
                L($"    c = g[{_ic}].index_select(0, pos)");
                L($"    s = g[{_isn}].index_select(0, pos)");
            }

            L("    m = _static_mask(x, pos, LB, g)");
            L("    for i in range(NL):");
            L("        b = i * S");
            InputNorms("        ", partial: false, oneRow: true);
            L($"        qkv = {Proj("y", _qkvw, _qkvb)}.view(QKV, HD)");
            if (_rotary)
            {
                L("        qk = qkv.narrow(0, 0, QK)");
                L("        r = qk.roll(HALF, -1)");
                L("        qk.mul_(c).addcmul_(r, s)");
            }

            L("        kvc[i].index_copy_(0, pos, qkv.unsqueeze(0))");
            L("        a = torch.scaled_dot_product_attention(qkv.narrow(0, 0, H).view(1, H, 1, HD), kk[i].narrow(2, 0, LB), vv[i].narrow(2, 0, LB), m, 0.0, False{GQA})");
            RowParallel("        ", "a.view(KV, G, HD).transpose(0, 1).reshape(1, AW)", _ow, _ob, partial: false);
            Ffn("        ", partial: false, oneRow: true, routes: "{0}.index_select(0, pos)");
            L("    return x");
            L(string.Empty);
            L("# Prompt encoding; leaves the first output token in t and hist[p], and p in pos.");
            L($"def prefill_static(tokens: Tensor, t: Tensor, pos: Tensor, hist: Tensor, {Sig}) -> Tensor:");
            L("    p = tokens.size(1)");
            L($"    nt = _choose(prefill_logits(tokens, {Args}).view(1, -1))");
            L("    t.copy_(nt)");
            L("    hist.narrow(0, p, 1).copy_(nt)");
            L("    pos.fill_(p)");
            L("    return t");
            L(string.Empty);
            L("# One step for token t at position pos (attending to the first LB > pos positions): t becomes the next token,");
            L("# written to hist[pos + 1], and pos advances.");
            L($"def decode_static(t: Tensor, pos: Tensor, hist: Tensor, LB: int, {Sig}) -> Tensor:");
            L($"    x = _decode_layers_static(_embed_at(t, pos, g), pos, LB, {Args})");
            if (_shape.HasHead)
            {
                L("    t.copy_(_choose(_head(x, g)))");
            }

            L("    hist.index_copy_(0, pos + 1, t)");
            L("    pos.add_(1)");
            L("    return t");
        }


        // The static step in pieces (_embed_at and _static_mask, then these), for a driver that launches two fused kernels
        // between them (DecodeKernels): the norm (with the pending row-parallel bias added to the residual first) and the
        // rotary + cache write. The *_ref functions are what those kernels compute, for running the same sequence without
        // them (CPU tests).
        private void FusedStepPieces()
        {
            L(string.Empty);
            L("def f_qkv(y: Tensor, i: int, w: List[Tensor]) -> Tensor:");
            L("    b = i * S");
            L($"    return {Proj("y", _qkvw, _qkvb)}.view(QKV, HD)");
            L(string.Empty);
            L("def f_attn(x: Tensor, q: Tensor, i: int, LB: int, m: Tensor, w: List[Tensor], kk: List[Tensor], vv: List[Tensor]) -> Tensor:");
            L("    b = i * S");
            L("    a = torch.scaled_dot_product_attention(q.view(1, H, 1, HD), kk[i].narrow(2, 0, LB), vv[i].narrow(2, 0, LB), m, 0.0, False{GQA})");
            RowParallel("    ", "a.view(KV, G, HD).transpose(0, 1).reshape(1, AW)", _ow, -1, partial: false);
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
            RowParallel("    ", "a", _ow, -1, partial: false);
            L("    return x");
            L(string.Empty);
            if (_moe)
            {
                // A mixture's FFN takes the step's position: its experts are that position's row of the routing table.
                L("def f_moe(x: Tensor, y: Tensor, i: int, pos: Tensor, w: List[Tensor]) -> Tensor:");
                L("    b = i * S");
                L($"    x.add_(_moe(y, {W(_moeFirst + 1)}.index_select(0, pos), w, b))");
                L("    return x");
                L(string.Empty);

                // The shared experts, which MixtureOfExpertsKernels adds to the routed experts' sum.
                if (_arch.SharedExperts > 0)
                {
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
                RowParallel("    ", FfnActivation("    "), _dw, -1, partial: false);
                L("    return x");
            }
            L(string.Empty);
            if (!_moe)
            {
                TensorParallelStepPieces();
            }

            FusedStepReferenceScript.Emit(L, batched: false, _ih, Norm("x", "nw", _ln ? "nb" : null, oneRow: true), _rotary, _ic, _isn);
        }

        // The static step of a rank driven with real collectives between its pieces (TensorParallelDecoder's captured
        // step): the row-parallel projections return this rank's partial sums (bias on the rank that holds it), and the
        // greedy choice is made from every rank's best (logit, global id) pair, summed into one [N, 2] table by the
        // all-reduce (each rank writes its own row of zeros), so no rank needs another's logits.
        private void TensorParallelStepPieces()
        {
            L("def f_out_partial(a: Tensor, i: int, w: List[Tensor]) -> Tensor:");
            L("    b = i * S");
            RowParallel("    ", "a", _ow, _ob, partial: true);
            L(string.Empty);
            L("def f_ffn_partial(y: Tensor, i: int, w: List[Tensor]) -> Tensor:");
            L("    b = i * S");
            RowParallel("    ", FfnActivation("    "), _dw, _db, partial: true);
            L(string.Empty);
            L("def f_head_pick(y: Tensor, slot: Tensor, g: List[Tensor]) -> Tensor:");
            L(_tp ? $"    lg = torch.mm(y, g[{_ih}]).narrow(1, 0, VV)" : $"    lg = torch.mm(y, g[{_ih}])");
            L("    k = torch.argmax(lg, -1)");
            L($"    slot.copy_(torch.stack([lg.gather(1, k.view(1, 1)).view(1).float(), (k{(_tp ? " + VS" : string.Empty)}).float()], 1))");
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
}
