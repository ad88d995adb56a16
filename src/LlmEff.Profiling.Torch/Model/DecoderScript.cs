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
            ["H"] = I(a.Heads), ["KV"] = I(a.KeyValueHeads), ["G"] = I(a.Heads / a.KeyValueHeads),
            ["HD"] = I(a.HeadDim), ["HALF"] = I(a.HeadDim / 2), ["HID"] = I(a.HiddenSize), ["F"] = I(a.FfnHiddenSize),
            ["NL"] = I(a.Layers), ["S"] = I(stride), ["EPS"] = eps.ToString("R", CultureInfo.InvariantCulture),
            ["QK"] = I(a.Heads + a.KeyValueHeads), ["QKV"] = I(a.Heads + (2 * a.KeyValueHeads)),
            ["GQA"] = a.Heads != a.KeyValueHeads ? ", enable_gqa=True" : string.Empty,
        };

        var rotary = a.Positions == PositionalScheme.Rotary;
        var alibi = a.Positions == PositionalScheme.Alibi;
        string W(int i) => $"w[b + {i}]";
        string Norm(string x, string wExpr, string? bExpr) => ln
            ? $"torch.layer_norm({x}, [HID], {wExpr}, {bExpr}, EPS)"
            : $"torch.rms_norm({x}, [HID], {wExpr}, EPS)";

        // x @ W^T (+ bias): the weights arrive as transposed views, so this is one GEMM (bias in its epilogue where cuBLAS can).
        string Proj(string x, int wi, int bi, string? outArg = null)
        {
            var o = outArg is null ? string.Empty : $", out={outArg}";
            return bi >= 0 ? $"torch.addmm({W(bi)}, {x}, {W(wi)}{o})" : $"torch.mm({x}, {W(wi)}{o})";
        }

        var sb = new StringBuilder();
        void L(string line) => sb.Append(Subst(line, c)).Append('\n');

        // Residual update x += y @ W^T (+ bias), in place: one GEMM with beta = 1 into x, plus the bias when there is one.
        void Residual(string indent, string y, int wi, int bi)
        {
            L($"{indent}x.addmm_({y}, {W(wi)})");
            if (bi >= 0)
            {
                L($"{indent}x.add_({W(bi)})");
            }
        }

        void Ffn(string indent)
        {
            L($"{indent}y = {Norm("x", W(n2w), ln ? W(n2b) : null)}");
            if (gated)
            {
                L($"{indent}gu = {Proj("y", uw, ub)}");
                Residual(indent, "torch.silu(gu.narrow(1, 0, F)) * gu.narrow(1, F, F)", dw, db);
            }
            else
            {
                Residual(indent, $"torch.gelu({Proj("y", uw, ub)}, approximate='tanh')", dw, db);
            }
        }

        var sig = "w: List[Tensor], g: List[Tensor], kvc: List[Tensor], kk: List[Tensor], vv: List[Tensor]";
        var args = "w, g, kvc, kk, vv";

        // Prompt encoding: x is [T, h]; the new keys/values go into the cache, and attention reads them back from it.
        L($"def _prefill_layers(x: Tensor, {sig}) -> Tensor:");
        L("    T = x.size(0)");
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
        // The fused QKV GEMM writes straight into the cache rows [T, H + 2·KV, HD]: no copy of the new keys and values.
        L("        qkv = kvc[i].narrow(0, 0, T)");
        L($"        {Proj("y", qkvw, qkvb, "qkv.view(T, QKV * HD)")}");
        if (rotary)
        {
            L("        qk = qkv.narrow(1, 0, QK)");
            L("        qk.copy_(qk * c + qk.roll(HALF, -1) * s)");
        }

        L("        q = qkv.narrow(1, 0, H).transpose(0, 1).unsqueeze(0)");
        L(alibi
            ? "        a = torch.scaled_dot_product_attention(q, kk[i].narrow(2, 0, T), vv[i].narrow(2, 0, T), m, 0.0, False{GQA})"
            : "        a = torch.scaled_dot_product_attention(q, kk[i].narrow(2, 0, T), vv[i].narrow(2, 0, T), None, 0.0, True{GQA})");
        // Heads enter the output projection in (group, kv head) order, the order a decode step's attention produces.
        Residual("        ", "a.view(KV, G, T, HD).permute(2, 1, 0, 3).reshape(T, HID)", ow, ob);
        Ffn("        ");
        L("    return x");
        L(string.Empty);

        // One decode step: x is [1, h]. Every update is in place, so a step allocates only a few small temporaries.
        L($"def _decode_layers(x: Tensor, pos: int, {sig}) -> Tensor:");
        L("    L = pos + 1");
        if (rotary)
        {
            L($"    c = g[{ic}][pos]");
            L($"    s = g[{isn}][pos]");
        }

        if (alibi)
        {
            L($"    m = g[{ia}].narrow(1, 0, L).view(1, KV, G, L)");
        }

        L("    for i in range(NL):");
        L("        b = i * S");
        L($"        y = {Norm("x", W(n1w), ln ? W(n1b) : null)}");
        L("        qkv = kvc[i][pos]");
        L($"        {Proj("y", qkvw, qkvb, "qkv.view(1, QKV * HD)")}");
        if (rotary)
        {
            // Rotate-half rotary in place: q·cos + roll(q, HALF)·[-sin, sin].
            L("        qk = qkv.narrow(0, 0, QK)");
            L("        r = qk.roll(HALF, -1)");
            L("        qk.mul_(c).addcmul_(r, s)");
        }


        // One query token: the G query heads of a KV head act as G queries of one head, so plain SDPA does GQA without
        // repeating the cache (query head j uses KV head j // G, as enable_gqa does).
        L($"        a = torch.scaled_dot_product_attention(qkv.narrow(0, 0, H).view(1, KV, G, HD), kk[i].narrow(2, 0, L), vv[i].narrow(2, 0, L), {(alibi ? "m" : "None")}, 0.0, False)");
        Residual("        ", "a.transpose(1, 2).reshape(1, HID)", ow, ob);
        Ffn("        ");
        L("    return x");
        L(string.Empty);

        var embedPrefill = ip >= 0 ? $"torch.embedding(g[{ie}], t) + g[{ip}].narrow(0, pos, t.size(0))" : $"torch.embedding(g[{ie}], t)";
        L("def _head(x: Tensor, g: List[Tensor]) -> Tensor:");
        L($"    y = {Norm("x.narrow(0, x.size(0) - 1, 1)", $"g[{ifw}]", ln ? $"g[{ifb}]" : null)}");
        L($"    return torch.mm(y, g[{ih}])");
        L(string.Empty);
        L($"def prefill_logits(tokens: Tensor, {sig}) -> Tensor:");
        L("    pos = 0");
        L("    t = tokens.view(-1)");
        L($"    return _head(_prefill_layers({embedPrefill}, {args}), g).unsqueeze(0)");
        L(string.Empty);
        L($"def decode_logits(tokens: Tensor, pos: int, {sig}) -> Tensor:");
        L("    t = tokens.view(-1)");
        L($"    return _head(_decode_layers({embedPrefill}, pos, {args}), g).unsqueeze(0)");
        L(string.Empty);
        L($"def _decode_next(t: Tensor, pos: int, {sig}) -> Tensor:");
        L($"    return torch.argmax(_head(_decode_layers({embedPrefill}, pos, {args}), g), -1)");
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
        L($"    t = torch.argmax(prefill_logits(tokens, {args}).view(1, -1), -1)");
        L("    row.narrow(0, 0, 1).copy_(t)");
        L("    for i in range(1, o):");
        L($"        t = _decode_next(t, p + i - 1, {args})");
        L("        row.narrow(0, i, 1).copy_(t)");
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
