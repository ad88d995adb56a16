namespace LlmEff.Core.Architecture;

/// <summary>The normalisation layer used before attention and FFN.</summary>
public enum NormKind
{
    /// <summary>LayerNorm with weight and bias (GPT-style).</summary>
    LayerNorm = 0,

    /// <summary>RMSNorm with weight only (Llama-style).</summary>
    RmsNorm = 1,
}
