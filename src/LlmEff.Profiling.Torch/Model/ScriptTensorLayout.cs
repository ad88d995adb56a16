using System.Globalization;
using LlmEff.Core.Architecture;

namespace LlmEff.Profiling.Torch;

/// <summary>
/// Where each weight sits in the flat tensor lists a TorchScript of <see cref="DecoderScript"/> or
/// <see cref="BatchedDecoderScript"/> receives (a layer's <c>w[b + i]</c>, the globals' <c>g[i]</c>), and the literals
/// both scripts substitute for shapes. One layout for both, so they cannot drift from <see cref="DecoderBlock.ScriptTensors"/>
/// and <see cref="DecoderTransformer.ScriptGlobals"/>. An absent tensor's offset is −1.
/// </summary>
internal static class ScriptTensorLayout
{
    /// <summary>A layer's offsets, matching DecoderBlock.ScriptTensors; <paramref name="Stride"/> is the tensors per layer.</summary>
    internal sealed record Layer(int N1w, int N1b, int QkvW, int QkvB, int OutW, int OutB, int N2w, int N2b, int UpW, int UpB, int DownW, int DownB, int MoeFirst, int Stride);

    /// <summary>The globals' offsets, matching DecoderTransformer.ScriptGlobals.</summary>
    internal sealed record Globals(int Embedding, int Head, int FinalNormW, int FinalNormB, int Positions, int Input, int Cos, int Sin, int Alibi);

    public static Layer LayerOf(TransformerArchitecture a, ShardShape s)
    {
        var ln = a.Norm == NormKind.LayerNorm;
        var bias = a.LinearBiases;
        var rowBias = bias && s.HasRowParallelBias;
        var moe = a.IsMixtureOfExperts;
        var next = 0;
        int Take(bool present = true) => present ? next++ : -1;
        int n1w = Take(), n1b = Take(ln), qkvw = Take(), qkvb = Take(bias), ow = Take(), ob = Take(rowBias);
        // The shared-norm parallel block (GPT-J) has one norm per layer: both branches read norm 1.
        var norm2 = a.Block != BlockLayout.ParallelSharedNorm;
        int n2w = Take(norm2), n2b = Take(ln && norm2);
        int uw = Take(!moe), ub = Take(bias && !moe), dw = Take(!moe), db = Take(rowBias && !moe);
        var moeFirst = next;
        next += moe ? MixtureOfExpertsFeedForward.ScriptTensorCount(a) : 0;
        return new Layer(n1w, n1b, qkvw, qkvb, ow, ob, n2w, n2b, uw, ub, dw, db, moeFirst, next);
    }

    public static Globals GlobalsOf(TransformerArchitecture a, ShardShape s)
    {
        var ln = a.Norm == NormKind.LayerNorm;
        var next = 0;
        int Take(bool present = true) => present ? next++ : -1;
        int ie = Take(s.HasEmbedding), ih = Take(s.HasHead), ifw = Take(s.HasHead), ifb = Take(s.HasHead && ln);
        int ip = Take(a.Positions == PositionalScheme.Learned && s.HasEmbedding), ix = Take(!s.HasEmbedding);
        int ic = Take(a.Positions == PositionalScheme.Rotary), isn = Take(a.Positions == PositionalScheme.Rotary);
        int ia = Take(a.Positions == PositionalScheme.Alibi);
        return new Globals(ie, ih, ifw, ifb, ip, ix, ic, isn, ia);
    }

    /// <summary>The shape literals the scripts' templates name (<c>H</c>, <c>KV</c>, <c>HD</c>, <c>S</c>, <c>EPS</c>, ...).</summary>
    public static Dictionary<string, string> Substitutions(ShardShape s, double eps, bool alignFfnWidth, int stride) => new()
    {
        ["H"] = I(s.Heads), ["KV"] = I(s.KeyValueHeads), ["G"] = I(s.Groups),
        ["HD"] = I(s.HeadDim), ["HALF"] = I(s.HeadDim / 2), ["HID"] = I(s.HiddenSize), ["AW"] = I(s.AttentionWidth),
        ["F"] = I(s.FfnHiddenSize), ["FP"] = I(DecoderBlock.FfnStorageWidth(s, alignFfnWidth)), ["NL"] = I(s.Layers), ["S"] = I(stride), ["EPS"] = eps.ToString("R", CultureInfo.InvariantCulture),
        ["QK"] = I(s.Heads + s.KeyValueHeads), ["QKV"] = I(s.Heads + (2 * s.KeyValueHeads)),
        ["VS"] = I(s.VocabularyStart), ["VR"] = I(s.VocabularyRows), ["VV"] = I(s.VocabularyValid),
        ["GQA"] = s.Heads != s.KeyValueHeads ? ", enable_gqa=True" : string.Empty,
    };

    private static string I(int v) => v.ToString(CultureInfo.InvariantCulture);
}
