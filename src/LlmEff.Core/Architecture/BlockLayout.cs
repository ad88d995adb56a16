namespace LlmEff.Core.Architecture;

/// <summary>How a layer's attention and FFN meet the residual stream.</summary>
public enum BlockLayout
{
    /// <summary>Pre-norm, one after the other: <c>x += attn(norm1(x))</c>, then <c>x += ffn(norm2(x))</c> (GPT-2/3, Llama, BLOOM).</summary>
    Sequential = 0,

    /// <summary>
    /// Both branches read the layer's input, each through its own norm, and join the residual together:
    /// <c>x + attn(norm1(x)) + ffn(norm2(x))</c> (GPT-NeoX, Pythia: <c>use_parallel_residual</c>).
    /// </summary>
    Parallel = 1,

    /// <summary>As <see cref="Parallel"/> with one norm that both branches read: <c>x + attn(norm(x)) + ffn(norm(x))</c> (GPT-J, Falcon-7B).</summary>
    ParallelSharedNorm = 2,
}
