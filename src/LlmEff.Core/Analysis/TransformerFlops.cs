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
    /// Per layer and sequence: <c>2·s·(2h·q + 2h·kvWidth)</c> projections (<c>q = n·headDim</c>, <c>h</c> for most models),
    /// <c>4·q·pairs</c> attention (pairs = <c>s·(c + s)</c>, or <c>s·c + s(s+1)/2</c> when causal; with a sliding window
    /// each token counts at most the window), <c>k·m·2·s·h·f_e</c> routed FFN (<c>m</c> = 2 standard, 3 gated, <c>k</c>
    /// experts per token of width <c>f_e</c>) plus the shared experts' <c>m·2·s·h·f_s</c> each, the shared gate's
    /// <c>2·s·h</c> and <c>2·s·h·E</c> routing for mixture-of-experts; then <c>2·h·V</c> per projected token.
    /// </summary>
    /// <param name="architecture">The model shape.</param>
    /// <param name="newTokens"><c>s</c>: tokens processed in this pass per sequence, at least 1.</param>
    /// <param name="cachedTokens"><c>c</c>: tokens already cached per sequence, 0 or more.</param>
    /// <param name="batchSize"><c>b</c>: sequences, at least 1.</param>
    /// <param name="options">What to count; <see cref="FlopCountOptions.Default"/> when null.</param>
    public static double ForwardPass(TransformerArchitecture architecture, int newTokens, int cachedTokens, int batchSize = 1, FlopCountOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        architecture.Validate(); // a hand-built shape with, say, negative layers would count negative FLOPs
        ArgumentOutOfRangeException.ThrowIfLessThan(newTokens, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(cachedTokens);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        options ??= FlopCountOptions.Default;
        var a = architecture;
        double h = a.HiddenSize, q = a.AttentionWidth, kv = a.KeyValueWidth, f = a.RoutedFfnHiddenSize, s = newTokens, c = cachedTokens;

        var projections = 2.0 * s * ((2.0 * h * q) + (2.0 * h * kv));
        var attention = 4.0 * q * AttendedPairs(a, newTokens, cachedTokens, options.CausalAttention);
        var matricesPerExpert = a.Ffn == FfnKind.Gated ? 3.0 : 2.0;
        var ffn = a.ExpertsPerToken * matricesPerExpert * 2.0 * s * h * f;
        ffn += a.SharedExperts * matricesPerExpert * 2.0 * s * h * a.SharedExpertFfnHiddenSize;
        ffn += a.SharedExpertGate ? 2.0 * s * h : 0.0;
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

        if (architecture.SlidingWindowTokens is not null)
        {
            // Past the window a pass stops growing with the cache, so the closed form below does not hold: sum the passes.
            var total = 0.0;
            for (var i = promptTokens + 1; i < promptTokens + outputTokens; i++)
            {
                total += OutputToken(architecture, i, batchSize, options);
            }

            return total;
        }

        var atZero = ForwardPass(architecture, 1, 0, batchSize, options);
        var perCachedToken = ForwardPass(architecture, 1, 1, batchSize, options) - atZero;
        double passes = outputTokens - 1;

        // Cached tokens run from p (generating token p + 2) to p + o − 2.
        var sumOfCached = passes * ((2.0 * promptTokens) + outputTokens - 2.0) / 2.0;
        return (passes * atZero) + (perCachedToken * sumOfCached);
    }

    /// <summary>
    /// Query-key pairs one sequence's pass scores: each new token at position <c>j</c> (<c>c ≤ j &lt; c + s</c>) attends to
    /// <c>j + 1</c> positions when causal (<c>c + s</c> when not), at most <see cref="TransformerArchitecture.SlidingWindowTokens"/>.
    /// </summary>
    private static double AttendedPairs(TransformerArchitecture a, int newTokens, int cachedTokens, bool causal)
    {
        double s = newTokens, c = cachedTokens;
        if (a.SlidingWindowTokens is not { } window)
        {
            return causal ? (s * c) + (s * (s + 1.0) / 2.0) : s * (c + s);
        }

        double w = window;
        if (!causal)
        {
            return s * Math.Min(c + s, w);
        }

        // Sum of min(m, w) for m = c + 1 .. c + s: the part below the window is an arithmetic series, the rest is w each.
        var lo = c + 1.0;
        var hi = c + s;
        var belowEnd = Math.Min(hi, w);
        var below = belowEnd >= lo ? (belowEnd - lo + 1.0) * (lo + belowEnd) / 2.0 : 0.0;
        var above = hi > w ? (hi - Math.Max(lo, w + 1.0) + 1.0) * w : 0.0;
        return below + above;
    }

    /// <summary>A whole query: prompt encoding plus generation.</summary>
    public static double Query(TransformerArchitecture architecture, int promptTokens, int outputTokens, int batchSize = 1, FlopCountOptions? options = null)
        => PromptEncoding(architecture, promptTokens, batchSize, options) + Generation(architecture, promptTokens, outputTokens, batchSize, options);
}
