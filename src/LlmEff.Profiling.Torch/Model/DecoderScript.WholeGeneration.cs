namespace LlmEff.Profiling.Torch;

/// <content>The eager passes (prompt encoding, one decode step, a tensor-parallel driver's per-layer partial sums), the embedding and head, and the whole-generation loop.</content>
internal static partial class DecoderScript
{
    private sealed partial class Writer
    {
        private void WholeGenerationPasses()
        {
            // Prompt encoding: x is [T, h]; the new keys/values go into the cache, and attention reads them back from it.
            L($"def _prefill_layers(x: Tensor, {Sig}) -> Tensor:");
            L("    T = x.size(0)");
            PrefillTables("    ");
            L("    for i in range(NL):");
            L("        b = i * S");
            PrefillAttention("        ", partial: false);
            Ffn("        ", partial: false, routes: "{0}.narrow(0, 0, T)");
            L("    return x");
            L(string.Empty);

            // One decode step: x is [1, h]. Every update is in place, so a step allocates only a few small temporaries.
            L($"def _decode_layers(x: Tensor, pos: int, {Sig}) -> Tensor:");
            DecodeTables("    ");
            L("    for i in range(NL):");
            L("        b = i * S");
            DecodeAttention("        ", partial: false);
            Ffn("        ", partial: false, oneRow: true, routes: "{0}.narrow(0, pos, 1)");
            L("    return x");
            L(string.Empty);

            // Per-layer partial sums for a tensor-parallel driver (one call per layer half; the driver all-reduces and adds).
            L($"def attn_prefill_partial(x: Tensor, i: int, {Sig}) -> Tensor:");
            L("    T = x.size(0)");
            L("    b = i * S");
            PrefillTables("    ");
            PrefillAttention("    ", partial: true);
            L(string.Empty);
            L($"def attn_decode_partial(x: Tensor, i: int, pos: int, {Sig}) -> Tensor:");
            L("    b = i * S");
            DecodeTables("    ");
            DecodeAttention("    ", partial: true);
            L(string.Empty);
            L("def ffn_partial(x: Tensor, i: int, w: List[Tensor]) -> Tensor:");
            L("    b = i * S");
            // The driver of real ranks runs dense models only (TensorParallelDecoder refuses a mixture); rows from 0 keep this valid.
            Ffn("    ", partial: true, routes: "{0}.narrow(0, 0, x.size(0))");
            L(string.Empty);


            Embed("_embed", "int", table => $"{table}.narrow(0, pos, t.size(0))", rowsAreView: true);

            L(string.Empty);
            L("def embed_partial(tokens: Tensor, pos: int, g: List[Tensor]) -> Tensor:");
            L("    return _embed(tokens.view(-1), pos, g)");
            L(string.Empty);

            // Head: this shard's vocabulary logits of the last position (a later stage without the head passes its hidden state on).
            L("def _head(x: Tensor, g: List[Tensor]) -> Tensor:");
            if (_shape.HasHead)
            {
                L($"    y = {Norm("x.narrow(0, x.size(0) - 1, 1)", $"g[{_ifw}]", _ln ? $"g[{_ifb}]" : null, oneRow: true)}");
                L($"    return torch.mm(y, g[{_ih}])");
            }
            else
            {
                L("    return x.narrow(0, x.size(0) - 1, 1)");
            }

            L(string.Empty);
            L("def head_logits(x: Tensor, g: List[Tensor]) -> Tensor:");
            L(_tp && _shape.HasHead ? "    return _head(x, g).narrow(1, 0, VV)" : "    return _head(x, g)");
            L(string.Empty);
            L($"def prefill_logits(tokens: Tensor, {Sig}) -> Tensor:");
            L("    t = tokens.view(-1)");
            L($"    return _head(_prefill_layers(_embed(t, 0, g), {Args}), g).unsqueeze(0)");
            L(string.Empty);
            L($"def decode_logits(tokens: Tensor, pos: int, {Sig}) -> Tensor:");
            L("    t = tokens.view(-1)");
            L($"    return _head(_decode_layers(_embed(t, pos, g), pos, {Args}), g).unsqueeze(0)");
            L(string.Empty);

            // Greedy choice within the shard: its best valid row, as a global token id. (Across ranks the choice needs the
            // ranks' maxima, a tiny all-gather that the communication model counts.)
            L("def _choose(logits: Tensor) -> Tensor:");
            L(_tp && _shape.HasHead ? "    return torch.argmax(logits.narrow(1, 0, VV), -1) + VS" : "    return torch.argmax(logits, -1)");
            L(string.Empty);
            L($"def _decode_next(t: Tensor, pos: int, {Sig}) -> Tensor:");
            L(_shape.HasHead
                ? $"    return _choose(_head(_decode_layers(_embed(t, pos, g), pos, {Args}), g))"
                : $"    _decode_layers(_embed(t, pos, g), pos, {Args})\n    return t");
            L(string.Empty);
            L($"def decode_greedy(tokens: Tensor, pos: int, i: int, out: Tensor, {Sig}) -> Tensor:");
            L($"    t = _decode_next(tokens.view(-1), pos, {Args})");
            L("    out.narrow(1, i, 1).copy_(t.view(1, 1))");
            L("    return t.view(1, 1)");
            L(string.Empty);
            L("# Prompt encoding in one pass, then exactly o - 1 greedy single-token steps (no early stop): the paper's t(p, o).");
            L("# Tokens never leave the device, so nothing in the loop waits for the GPU.");
            L($"def generate(tokens: Tensor, o: int, out: Tensor, {Sig}) -> Tensor:");
            L("    p = tokens.size(1)");
            L("    row = out.view(-1)");
            L($"    t = _choose(prefill_logits(tokens, {Args}).view(1, -1))");
            L("    row.narrow(0, 0, 1).copy_(t)");
            L("    for i in range(1, o):");
            L($"        t = _decode_next(t, p + i - 1, {Args})");
            L("        row.narrow(0, i, 1).copy_(t)");
            L("    return out");
            L(string.Empty);
        }
    }
}
