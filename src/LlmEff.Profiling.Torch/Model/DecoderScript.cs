using System.Globalization;
using System.Text;
using LlmEff.Core.Architecture;

namespace LlmEff.Profiling.Torch.Model;

/// <summary>
/// Writes the TorchScript source of one architecture's KV-cached forward passes. Running a whole decode step (and the
/// whole generation loop) inside TorchScript dispatches every op from C++: a TorchSharp call costs about 12 us of host
/// time, which at ~40 ops per layer would make a 6-8B decode step host-bound (shared/gpu/README.md). Shapes and flags
/// are baked in as literals, so the script has no architecture branches.
/// </summary>
internal static class DecoderScript
{
    public static string Build(TransformerArchitecture a, double eps)
    {
        var ln = a.Norm == NormKind.LayerNorm;
        var bias = a.LinearBiases;
        var gated = a.Ffn == FfnKind.Gated;

        // Layer tensor offsets, matching DecoderBlock.ScriptTensors.
        var next = 0;
        int Take(bool present = true) => present ? next++ : -1;
        int n1w = Take(), n1b = Take(ln), qkvw = Take(), qkvb = Take(bias), ow = Take(), ob = Take(bias);
        int n2w = Take(), n2b = Take(ln), uw = Take(), ub = Take(bias), dw = Take(), db = Take(bias);
        var stride = next;

        // Global tensor offsets, matching DecoderTransformer.ScriptGlobals.
        next = 0;
        int ie = Take(), ih = Take(), ifw = Take(), ifb = Take(ln), ip = Take(a.Positions == PositionalScheme.Learned);
        int ic = Take(a.Positions == PositionalScheme.Rotary), isn = Take(a.Positions == PositionalScheme.Rotary);
        int ia = Take(a.Positions == PositionalScheme.Alibi);

        var c = new Dictionary<string, string>
        {
            ["H"] = I(a.Heads), ["KV"] = I(a.KeyValueHeads), ["G"] = I(a.Heads / a.KeyValueHeads), ["HD"] = I(a.HeadDim),
            ["HALF"] = I(a.HeadDim / 2), ["HID"] = I(a.HiddenSize), ["F"] = I(a.FfnHiddenSize), ["NL"] = I(a.Layers),
            ["S"] = I(stride), ["EPS"] = eps.ToString("R", CultureInfo.InvariantCulture), ["QK"] = I(a.Heads + a.KeyValueHeads),
            ["QKV"] = I(a.Heads + (2 * a.KeyValueHeads)), ["GQA"] = a.Heads != a.KeyValueHeads ? ", enable_gqa=True" : string.Empty,
        };

        string W(int i, string b = "b") => $"w[{b} + {i}]";
        string Lin(string x, int wi, int bi) => bi >= 0 ? $"torch.linear({x}, {W(wi)}, {W(bi)})" : $"torch.linear({x}, {W(wi)})";
        string Norm(string x, string wExpr, string? bExpr) => ln
            ? $"torch.layer_norm({x}.float(), [HID], {wExpr}, {bExpr}, EPS).to({x}.dtype)"
            : $"torch.rms_norm({x}.float(), [HID], {wExpr}, EPS).to({x}.dtype)";
        var rotary = a.Positions == PositionalScheme.Rotary;
        var alibi = a.Positions == PositionalScheme.Alibi;

        var sb = new StringBuilder();
        void L(string line) => sb.Append(Subst(line, c)).Append('\n');

        L("def _rope(x: Tensor, c: Tensor, s: Tensor) -> Tensor:");
        L("    return x * c + torch.cat([-x.narrow(3, HALF, HALF), x.narrow(3, 0, HALF)], 3) * s");
        L(string.Empty);

        // One layer body, shared by the prefill (pos = 0, T tokens, causal) and decode (T = 1) variants.
        void Layer(bool decode)
        {
            var t = decode ? "1" : "T";
            var at = decode ? "pos" : "0";
            L("    for i in range(NL):");
            L("        b = i * S");
            L($"        y = {Norm("x", W(n1w), ln ? W(n1b) : null)}");
            L($"        qkv = {Lin("y", qkvw, qkvb)}.view(1, {t}, QKV, HD)");
            L(rotary ? "        qk = _rope(qkv.narrow(2, 0, QK), c, s)" : "        qk = qkv.narrow(2, 0, QK)");
            L($"        kc[i].narrow(1, {at}, {t}).copy_(qk.narrow(2, H, KV))");
            L($"        vc[i].narrow(1, {at}, {t}).copy_(qkv.narrow(2, QK, KV))");
            if (decode)
            {
                // One query token: the G query heads of a KV head act as G queries of one head, so plain SDPA does GQA
                // without repeating the cache (query head j uses KV head j // G, as enable_gqa does).
                L("        q = qk.narrow(2, 0, H).reshape(1, KV, G, HD)");
                L($"        a = torch.scaled_dot_product_attention(q, kc[i].narrow(1, 0, L).transpose(1, 2), vc[i].narrow(1, 0, L).transpose(1, 2), {(alibi ? "m" : "None")}, 0.0, False)");
                L("        x = x + " + Lin("a.reshape(1, 1, HID)", ow, ob));
            }
            else
            {
                L("        q = qk.narrow(2, 0, H).transpose(1, 2)");
                L("        k = qk.narrow(2, H, KV).transpose(1, 2)");
                L("        v = qkv.narrow(2, QK, KV).transpose(1, 2)");
                L(alibi
                    ? "        a = torch.scaled_dot_product_attention(q, k, v, m, 0.0, False{GQA})"
                    : "        a = torch.scaled_dot_product_attention(q, k, v, None, 0.0, True{GQA})");
                L("        x = x + " + Lin("a.transpose(1, 2).reshape(1, T, HID)", ow, ob));
            }

            L($"        y = {Norm("x", W(n2w), ln ? W(n2b) : null)}");
            if (gated)
            {
                L($"        gu = {Lin("y", uw, ub)}");
                L("        x = x + " + Lin("torch.silu(gu.narrow(-1, 0, F)) * gu.narrow(-1, F, F)", dw, db));
            }
            else
            {
                L("        x = x + " + Lin($"torch.gelu({Lin("y", uw, ub)}, approximate='tanh')", dw, db));
            }

            L("    return x");
            L(string.Empty);
        }

        var sig = "w: List[Tensor], g: List[Tensor], kc: List[Tensor], vc: List[Tensor]";
        L($"def _prefill_layers(x: Tensor, {sig}) -> Tensor:");
        L("    T = x.size(1)");
        if (rotary)
        {
            L($"    c = g[{ic}].narrow(0, 0, T)");
            L($"    s = g[{isn}].narrow(0, 0, T)");
        }

        if (alibi)
        {
            L($"    m = (g[{ia}].narrow(1, 0, T).unsqueeze(1) + torch.full([T, T], float('-inf'), dtype=x.dtype, device=x.device).triu(1)).unsqueeze(0)");
        }

        Layer(decode: false);

        L($"def _decode_layers(x: Tensor, pos: int, {sig}) -> Tensor:");
        L("    L = pos + 1");
        if (rotary)
        {
            L($"    c = g[{ic}].narrow(0, pos, 1)");
            L($"    s = g[{isn}].narrow(0, pos, 1)");
        }

        if (alibi)
        {
            L($"    m = g[{ia}].narrow(1, 0, L).view(1, KV, G, L)");
        }

        Layer(decode: true);

        var embed = ip >= 0 ? $"torch.embedding(g[{ie}], tokens) + g[{ip}].narrow(0, pos, tokens.size(1))" : $"torch.embedding(g[{ie}], tokens)";
        L("def _head(x: Tensor, g: List[Tensor]) -> Tensor:");
        L($"    y = {Norm("x.narrow(1, x.size(1) - 1, 1)", $"g[{ifw}]", ln ? $"g[{ifb}]" : null)}");
        L($"    return torch.linear(y, g[{ih}])");
        L(string.Empty);
        L($"def prefill_logits(tokens: Tensor, {sig}) -> Tensor:");
        L("    pos = 0");
        L($"    return _head(_prefill_layers({embed}, w, g, kc, vc), g)");
        L(string.Empty);
        L($"def decode_logits(tokens: Tensor, pos: int, {sig}) -> Tensor:");
        L($"    return _head(_decode_layers({embed}, pos, w, g, kc, vc), g)");
        L(string.Empty);
        L($"def decode_greedy(tokens: Tensor, pos: int, i: int, out: Tensor, {sig}) -> Tensor:");
        L("    t = torch.argmax(decode_logits(tokens, pos, w, g, kc, vc), -1)");
        L("    out.narrow(1, i, 1).copy_(t)");
        L("    return t");
        L(string.Empty);
        L("# Prompt encoding in one pass, then exactly o - 1 greedy single-token steps (no early stop): the paper's t(p, o).");
        L($"def generate(tokens: Tensor, o: int, out: Tensor, {sig}) -> Tensor:");
        L("    p = tokens.size(1)");
        L("    t = torch.argmax(prefill_logits(tokens, w, g, kc, vc), -1)");
        L("    out.narrow(1, 0, 1).copy_(t)");
        L("    for i in range(1, o):");
        L("        t = decode_greedy(t, p + i - 1, i, out, w, g, kc, vc)");
        L("    return out");
        return sb.ToString();
    }

    private static string I(int v) => v.ToString(CultureInfo.InvariantCulture);

    private static string Subst(string line, Dictionary<string, string> constants)
    {
        // Replace whole-word constant names only (e.g. H but not HD or HID).
        var sb = new StringBuilder();
        var i = 0;
        while (i < line.Length)
        {
            if (char.IsLetter(line[i]) || line[i] == '_' || line[i] == '{')
            {
                var brace = line[i] == '{';
                var j = i + (brace ? 1 : 0);
                while (j < line.Length && (char.IsLetterOrDigit(line[j]) || line[j] == '_'))
                {
                    j++;
                }

                var word = line[(i + (brace ? 1 : 0))..j];
                if (brace && j < line.Length && line[j] == '}' && constants.TryGetValue(word, out var braced))
                {
                    sb.Append(braced);
                    i = j + 1;
                    continue;
                }

                var prevIsDot = i > 0 && line[i - 1] == '.';
                if (!brace && !prevIsDot && constants.TryGetValue(word, out var value))
                {
                    sb.Append(value);
                }
                else
                {
                    sb.Append(line, i, j - i);
                }

                i = j;
                continue;
            }

            sb.Append(line[i]);
            i++;
        }

        return sb.ToString();
    }
}
