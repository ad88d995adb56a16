using System.Globalization;
using System.Text;
using LlmEff.Core.Architecture;

namespace LlmEff.Profiling.Torch;

/// <summary>
/// Writes the TorchScript of a mixture-of-experts FFN, <c>_moe(y, idx, w, b)</c>: the router GEMM, softmax over the
/// chosen experts' logits, the token copies sorted by expert, two grouped GEMMs over the stacked experts (an expert
/// with no token reads no weight), the gated sum back into token rows, and the shared experts. Every shape is fixed by
/// <c>T</c> and <c>k</c>, and nothing is read back to the host, so a decode step can be captured as a CUDA graph.
/// </summary>
internal static class MixtureOfExpertsScript
{
    /// <summary>Appends the <c>_moe</c> function for <paramref name="a"/>'s shard <paramref name="s"/>; its tensors start at layer offset <paramref name="first"/>.</summary>
    public static void Emit(StringBuilder sb, TransformerArchitecture a, ShardShape s, int first)
    {
        var gated = a.Ffn == FfnKind.Gated;
        var shared = a.SharedExperts > 0;
        var c = new Dictionary<string, string>
        {
            ["E"] = I(a.Experts), ["K"] = I(a.ExpertsPerToken), ["F"] = I(s.FfnHiddenSize), ["HID"] = I(s.HiddenSize),
            ["FS"] = I(MixtureOfExpertsFeedForward.SharedLocalWidth(a, s)),
            ["RT"] = I(first), ["EGU"] = I(first + 2), ["ED"] = I(first + 3), ["SGU"] = I(first + 4), ["SD"] = I(first + 5), ["SG"] = I(first + 6),
        };
        void L(string line) => sb.Append(ScriptTemplate.Substitute(line, c)).Append('\n');
        string Act(string u, string width) => gated
            ? $"torch.silu({u}.narrow(1, 0, {width})) * {u}.narrow(1, {width}, {width})"
            : $"torch.gelu({u}, approximate='tanh')";

        if (shared)
        {
            // The shared experts' output for every row of y (the fused decode step calls it on its own).
            L("def _moe_shared(y: Tensor, w: List[Tensor], b: int) -> Tensor:");
            L("    su = torch.mm(y, w[b + SGU])");
            L($"    sz = torch.mm({Act("su", "FS")}, w[b + SD])");
            if (a.SharedExpertGate)
            {
                L("    sz = sz * torch.sigmoid(torch.mm(y, w[b + SG]))");
            }

            L("    return sz");
            L(string.Empty);
        }

        L("def _moe(y: Tensor, idx: Tensor, w: List[Tensor], b: int) -> Tensor:");
        L("    T = y.size(0)");
        L("    gates = torch.softmax(torch.mm(y, w[b + RT]).gather(1, idx).float(), -1).to(y.dtype)");
        L("    ar = torch.arange(E, device=y.device)");
        L("    if T == 1:");
        // One token: its k experts are already ascending (the table's rows are sorted), so its k copies are in expert order.
        L("        offs = torch.searchsorted(idx.view(-1), ar, right=True).int()");
        L("        u = torch._grouped_mm(y.expand(K, HID).contiguous(), w[b + EGU], offs)");
        L($"        z = torch._grouped_mm({Act("u", "F")}, w[b + ED], offs)");
        L("        out = torch.mm(gates, z)");
        L("    else:");
        L("        se, order = torch.sort(idx.reshape(-1), stable=True)");
        L("        src = torch.div(order, K, rounding_mode='floor')");
        L("        offs = torch.searchsorted(se, ar, right=True).int()");
        L("        u = torch._grouped_mm(y.index_select(0, src), w[b + EGU], offs)");
        L($"        z = torch._grouped_mm({Act("u", "F")}, w[b + ED], offs)");
        L("        z = z * gates.reshape(-1).index_select(0, order).unsqueeze(1)");
        L("        out = torch.zeros_like(y).index_add_(0, src, z)");
        if (shared)
        {
            L("    out = out + _moe_shared(y, w, b)");
        }

        L("    return out");
        L(string.Empty);
    }

    private static string I(int v) => v.ToString(CultureInfo.InvariantCulture);
}
