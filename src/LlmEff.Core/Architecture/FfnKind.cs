namespace LlmEff.Core.Architecture;

/// <summary>The feed-forward block of a Transformer layer.</summary>
public enum FfnKind
{
    /// <summary>Two projections, <c>h → f → h</c>, with a pointwise activation (GPT-2/3, GPT-J, BLOOM).</summary>
    Standard = 0,

    /// <summary>Gated (SwiGLU/GeGLU): gate and up projections <c>h → f</c> multiplied, then down <c>f → h</c> (Llama, Mistral, Qwen).</summary>
    Gated = 1,
}
