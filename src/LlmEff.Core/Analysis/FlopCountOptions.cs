namespace LlmEff.Core.Analysis;

/// <summary>What <see cref="TransformerFlops"/> counts beyond the paper's Transformer-layer matrix multiplications.</summary>
public sealed record FlopCountOptions
{
    /// <summary>Defaults: vocabulary projection on, logits for the last token only, full (unmasked) attention scores.</summary>
    public static FlopCountOptions Default { get; } = new();

    /// <summary>The paper's accounting: no vocabulary projection, full attention scores (§3.1.1).</summary>
    public static FlopCountOptions Paper { get; } = new() { IncludeVocabularyProjection = false };

    /// <summary>Count the output (vocabulary) projection, <c>2·h·V</c> per token that needs logits. Default true; the paper neglects it.</summary>
    public bool IncludeVocabularyProjection { get; init; } = true;

    /// <summary>
    /// Project every new token to the vocabulary, not only the last. Default false: generation needs only the last
    /// token's distribution (some implementations, e.g. Megatron's, compute all of them during prompt encoding).
    /// </summary>
    public bool LogitsForEveryToken { get; init; }

    /// <summary>
    /// Count only the causal (lower-triangular) attention scores, as fused kernels such as FlashAttention do. Default
    /// false: the full <c>s × (cached + s)</c> score matrix, which is what the paper counts and unfused kernels compute.
    /// </summary>
    public bool CausalAttention { get; init; }
}
