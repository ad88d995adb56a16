using LlmEff.Core.Architecture;

namespace LlmEff.Core.Analysis;

/// <summary>
/// Exact matrix-multiplication FLOPs of a forward pass for the general architecture: query/key/value/output
/// projections with grouped-query attention, attention scores and values, standard or gated FFN, mixture-of-experts
/// routing (only the experts a token is routed to compute), and the vocabulary projection. Element-wise work
/// (norms, softmax, activations, residual adds, biases) is left out, as in the paper, because it is a few FLOPs per
/// element against <c>O(h)</c> per element for the matrix products. A multiply-add counts as two FLOPs.
/// </summary>
public static class TransformerFlops
{
    /// <summary>
    /// FLOPs of one forward pass that feeds <paramref name="newTokens"/> tokens per sequence with
    /// <paramref name="cachedTokens"/> tokens already in the KV cache.
    /// Per layer and sequence: <c>2·s·(2h² + 2h·kvWidth)</c> projections, <c>4·h·pairs</c> attention (pairs =
    /// <c>s·(c + s)</c>, or <c>s·c + s(s+1)/2</c> when causal), <c>k·m·2·s·h·f</c> FFN (<c>m</c> = 2 standard, 3 gated,
    /// <c>k</c> experts per token) plus <c>2·s·h·E</c> routing for mixture-of-experts; then <c>2·h·V</c> per projected token.
    /// </summary>
    /// <param name="architecture">The model shape.</param>
    /// <param name="newTokens"><c>s</c>: tokens processed in this pass per sequence, at least 1.</param>
    /// <param name="cachedTokens"><c>c</c>: tokens already cached per sequence, 0 or more.</param>
    /// <param name="batchSize"><c>b</c>: sequences, at least 1.</param>
    /// <param name="options">What to count; <see cref="FlopCountOptions.Default"/> when null.</param>
    public static double ForwardPass(TransformerArchitecture architecture, int newTokens, int cachedTokens, int batchSize = 1, FlopCountOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        ArgumentOutOfRangeException.ThrowIfLessThan(newTokens, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(cachedTokens);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        options ??= FlopCountOptions.Default;
        var a = architecture;
        double h = a.HiddenSize, kv = a.KeyValueWidth, f = a.FfnHiddenSize, s = newTokens, c = cachedTokens;

        var projections = 2.0 * s * ((2.0 * h * h) + (2.0 * h * kv));
        var pairs = options.CausalAttention ? (s * c) + (s * (s + 1.0) / 2.0) : s * (c + s);
        var attention = 4.0 * h * pairs;
        var matricesPerExpert = a.Ffn == FfnKind.Gated ? 3.0 : 2.0;
        var ffn = a.ExpertsPerToken * matricesPerExpert * 2.0 * s * h * f;
        var router = a.IsMixtureOfExperts ? 2.0 * s * h * a.Experts : 0.0;
        var perSequence = a.Layers * (projections + attention + ffn + router);
        if (options.IncludeVocabularyProjection)
        {
            perSequence += 2.0 * h * a.VocabularySize * (options.LogitsForEveryToken ? s : 1.0);
        }

        return batchSize * perSequence;
    }

    /// <summary>Prompt encoding of <paramref name="promptTokens"/> tokens: one pass with an empty cache.</summary>
    public static double PromptEncoding(TransformerArchitecture architecture, int promptTokens, int batchSize = 1, FlopCountOptions? options = null)
        => ForwardPass(architecture, promptTokens, 0, batchSize, options);

    /// <summary>
    /// Generating token <c>i + 1</c> when <c>i</c> tokens exist (the paper's Appendix A.2 convention): one new token
    /// attending to <c>i</c> tokens, i.e. <c>i − 1</c> cached plus itself.
    /// </summary>
    public static double OutputToken(TransformerArchitecture architecture, int tokensSoFar, int batchSize = 1, FlopCountOptions? options = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(tokensSoFar, 1);
        return ForwardPass(architecture, 1, tokensSoFar - 1, batchSize, options);
    }

    /// <summary>
    /// The <c>o − 1</c> generation passes of a query, <c>i = p + 1 … p + o − 1</c>. A one-token pass is linear in
    /// the cache length, so the sum is computed in closed form.
    /// </summary>
    public static double Generation(TransformerArchitecture architecture, int promptTokens, int outputTokens, int batchSize = 1, FlopCountOptions? options = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(promptTokens, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(outputTokens, 1);
        if (outputTokens == 1)
        {
            return 0.0;
        }

        var atZero = ForwardPass(architecture, 1, 0, batchSize, options);
        var perCachedToken = ForwardPass(architecture, 1, 1, batchSize, options) - atZero;
        double passes = outputTokens - 1;

        // Cached tokens run from p (generating token p + 2) to p + o − 2.
        var sumOfCached = passes * ((2.0 * promptTokens) + outputTokens - 2.0) / 2.0;
        return (passes * atZero) + (perCachedToken * sumOfCached);
    }

    /// <summary>A whole query: prompt encoding plus generation.</summary>
    public static double Query(TransformerArchitecture architecture, int promptTokens, int outputTokens, int batchSize = 1, FlopCountOptions? options = null)
        => PromptEncoding(architecture, promptTokens, batchSize, options) + Generation(architecture, promptTokens, outputTokens, batchSize, options);
}
