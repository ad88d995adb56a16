namespace LlmEff.Profiling.Torch;

/// <summary>
/// The end of a fused decode step's script, shared by the single-query and batched writers: <c>f_head</c> (the head,
/// the greedy choice, the history and the position) and the reference functions that stand in for the NVRTC kernels
/// where those do not run (<c>f_norm_ref</c> for <see cref="DecodeKernels.Norm"/>, <c>f_rotary_ref</c> for
/// <see cref="DecodeKernels.RotaryCache"/>). The two steps differ only in a batch's leading dimension: one query's qkv
/// rows are <c>[QKV, HD]</c> and its cache <c>[T, QKV, HD]</c>, a batch's <c>[b, QKV, HD]</c> and <c>[b, T, QKV, HD]</c>.
/// </summary>
internal static class FusedStepReferenceScript
{
    /// <summary>
    /// Appends the three functions through <paramref name="line"/> (the writer's substituting line emitter).
    /// <paramref name="normExpression"/> is the writer's norm of <c>x</c> by <c>nw</c> (and <c>nb</c>); the head and the
    /// rotary tables are the globals at <paramref name="head"/>, <paramref name="cos"/> and <paramref name="signedSin"/>.
    /// </summary>
    public static void Emit(Action<string> line, bool batched, int head, string normExpression, bool rotary, int cos, int signedSin)
    {
        // The dimension a batch puts in front of a query's rows (and of its cache's positions).
        var d = batched ? 1 : 0;
        line("def f_head(y: Tensor, t: Tensor, pos: Tensor, hist: Tensor, g: List[Tensor]) -> Tensor:");
        line($"    t.copy_(_choose(torch.mm(y, g[{head}])))");
        line(batched ? "    hist.index_copy_(1, pos + 1, t.view(t.size(0), 1))" : "    hist.index_copy_(0, pos + 1, t)");
        line("    pos.add_(1)");
        line("    return t");
        line(string.Empty);
        line("def f_norm_ref(x: Tensor, add: Tensor, has_add: int, nw: Tensor, nb: Tensor, y: Tensor) -> Tensor:");
        line("    if has_add != 0:");
        line("        x.add_(add)");
        line($"    y.copy_({normExpression})");
        line("    return y");
        line(string.Empty);
        line("def f_rotary_ref(qkv: Tensor, q: Tensor, kvc_i: Tensor, pos: Tensor, g: List[Tensor]) -> Tensor:");
        if (rotary)
        {
            line($"    qk = qkv.narrow({d}, 0, QK)");
            line("    r = qk.roll(HALF, -1)");
            line($"    qk.mul_(g[{cos}].index_select(0, pos)).addcmul_(r, g[{signedSin}].index_select(0, pos))");
        }

        line($"    kvc_i.index_copy_({d}, pos, qkv.unsqueeze({d}))");
        line($"    q.copy_(qkv.narrow({d}, 0, H))");
        line("    return q");
    }
}
