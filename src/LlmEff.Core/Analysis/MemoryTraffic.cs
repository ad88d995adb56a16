using LlmEff.Core.Architecture;

namespace LlmEff.Core.Analysis;

/// <summary>
/// Memory footprint and bytes moved per phase: resident weights, KV cache per token, and per forward pass the
/// weights read, the cache read by attention and the new keys/values written. Activations are left out: at
/// inference they are <c>O(b·s·h)</c> per layer and stay in on-chip memory or caches far more than weights do.
/// </summary>
public static class MemoryTraffic
{
    /// <summary>Bytes of resident weights: <c>ParameterCount × bytes per weight</c> (every expert of a mixture).</summary>
    public static double WeightBytes(TransformerArchitecture architecture, InferencePrecision precision)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        architecture.Validate(); // a hand-built shape with, say, negative heads would give negative bytes
        ArgumentNullException.ThrowIfNull(precision);
        return architecture.ParameterCount * precision.Validate().WeightBytesPerParameter;
    }

    /// <summary>KV-cache bytes per token of context: <c>2 · l · kvHeads · headDim × bytes per element</c>.</summary>
    public static double KvCacheBytesPerToken(TransformerArchitecture architecture, InferencePrecision precision)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        architecture.Validate(); // a hand-built shape with, say, negative heads would give negative bytes
        ArgumentNullException.ThrowIfNull(precision);
        return architecture.KvCacheElementsPerToken * precision.Validate().KvCacheBytesPerElement;
    }

    /// <summary>KV-cache bytes for <paramref name="batchSize"/> sequences of <paramref name="contextTokens"/> tokens (at most the sliding window of them, where the model has one).</summary>
    public static double KvCacheBytes(TransformerArchitecture architecture, InferencePrecision precision, int contextTokens, int batchSize = 1)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        architecture.Validate(); // before KvCacheTokens reads the window; KvCacheBytesPerToken checks the rest
        ArgumentOutOfRangeException.ThrowIfNegative(contextTokens);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        return KvCacheBytesPerToken(architecture, precision) * architecture.KvCacheTokens(contextTokens) * (double)batchSize;
    }

    /// <summary>
    /// Expected experts of one layer that at least one of <paramref name="routedTokens"/> tokens is sent to, under
    /// uniform routing: <c>E·(1 − (1 − k/E)^T)</c>. 1 for a dense model; <c>k</c> for one token; → <c>E</c> for many.
    /// </summary>
    public static double ExpectedExpertsTouched(TransformerArchitecture architecture, double routedTokens)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        ArgumentOutOfRangeException.ThrowIfNegative(routedTokens);
        if (!architecture.IsMixtureOfExperts)
        {
            return 1.0;
        }

        double e = architecture.Experts, k = architecture.ExpertsPerToken;
        return e * (1.0 - Math.Pow(1.0 - (k / e), routedTokens));
    }

    /// <summary>
    /// Tokens a prompt needs before each layer's routed tokens are expected to have reached a share
    /// <paramref name="expertShare"/> of its experts under uniform routing: the inverse of
    /// <see cref="ExpectedExpertsTouched"/>, <c>ln(1 − share) / ln(1 − k/E)</c>. Below it prefill reads a few experts,
    /// above it nearly all, which is where a mixture's <c>PE(p)</c> bends. 0 for a dense model or <c>k = E</c>.
    /// </summary>
    /// <param name="architecture">The model.</param>
    /// <param name="expertShare">Share of the experts, in (0, 1).</param>
    public static double RoutedTokensToTouch(TransformerArchitecture architecture, double expertShare)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        if (!(expertShare > 0 && expertShare < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(expertShare), expertShare, "Give a share of the experts strictly between 0 and 1 (e.g. 0.9).");
        }

        if (!architecture.IsMixtureOfExperts || architecture.ExpertsPerToken >= architecture.Experts)
        {
            return 0;
        }

        return Math.Log(1.0 - expertShare) / Math.Log(1.0 - ((double)architecture.ExpertsPerToken / architecture.Experts));
    }

    /// <summary>
    /// Bytes moved by one forward pass of <paramref name="newTokens"/> tokens per sequence over
    /// <paramref name="cachedTokens"/> cached ones. Weights: every layer weight (for a mixture, only the experts the
    /// batch touches, see <see cref="ExpectedExpertsTouched"/>), the output projection (<c>V·h</c>, tied or not) and
    /// the embedding rows looked up; shared experts and the router are always read. Cache: <c>b·c</c> tokens read
    /// (<c>b·min(c, W − 1)</c> under a sliding window <c>W</c>: the positions the new tokens can still see), <c>b·s</c> written.
    /// </summary>
    public static BytesMoved ForwardPass(TransformerArchitecture architecture, int newTokens, int cachedTokens, int batchSize, InferencePrecision precision)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        architecture.Validate();
        ArgumentNullException.ThrowIfNull(precision);
        ArgumentOutOfRangeException.ThrowIfLessThan(newTokens, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(cachedTokens);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        precision.Validate();
        var a = architecture;
        double tokens = (double)newTokens * batchSize;

        var untouchedExperts = a.Experts - ExpectedExpertsTouched(a, tokens);
        double parametersRead = a.ParameterCount - a.EmbeddingParameters - (a.Layers * untouchedExperts * a.FfnParametersPerExpert);
        if (a.TiedEmbeddings)
        {
            parametersRead += (double)a.VocabularySize * a.HiddenSize;
        }

        var embeddingRows = a.Positions == PositionalScheme.Learned ? 2.0 : 1.0;
        parametersRead += embeddingRows * Math.Min(tokens, a.VocabularySize) * a.HiddenSize;

        var kvPerToken = a.KvCacheElementsPerToken * precision.KvCacheBytesPerElement;
        return new BytesMoved(
            parametersRead * precision.WeightBytesPerParameter,
            (double)batchSize * CachedTokensRead(a, cachedTokens) * kvPerToken,
            tokens * kvPerToken);
    }

    /// <summary>Prompt encoding: one pass of <paramref name="promptTokens"/> tokens with an empty cache.</summary>
    public static BytesMoved PromptEncoding(TransformerArchitecture architecture, int promptTokens, int batchSize, InferencePrecision precision)
        => ForwardPass(architecture, promptTokens, 0, batchSize, precision);

    /// <summary>Generating token <c>i + 1</c> when <c>i</c> tokens exist: one new token over <c>i − 1</c> cached.</summary>
    public static BytesMoved OutputToken(TransformerArchitecture architecture, int tokensSoFar, int batchSize, InferencePrecision precision)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(tokensSoFar, 1);
        return ForwardPass(architecture, 1, tokensSoFar - 1, batchSize, precision);
    }

    /// <summary>The <c>o − 1</c> generation passes of a query (<c>i = p + 1 … p + o − 1</c>), summed in closed form.</summary>
    public static BytesMoved Generation(TransformerArchitecture architecture, int promptTokens, int outputTokens, int batchSize, InferencePrecision precision)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(promptTokens, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(outputTokens, 1);
        if (outputTokens == 1)
        {
            return default;
        }

        if (architecture.SlidingWindowTokens is not null)
        {
            // Past the window the cache read stops growing, so sum the passes instead of the closed form below.
            BytesMoved total = default;
            for (var i = promptTokens + 1; i < promptTokens + outputTokens; i++)
            {
                var pass = OutputToken(architecture, i, batchSize, precision);
                total = new BytesMoved(total.WeightBytes + pass.WeightBytes, total.KvCacheReadBytes + pass.KvCacheReadBytes, total.KvCacheWriteBytes + pass.KvCacheWriteBytes);
            }

            return total;
        }

        var first = ForwardPass(architecture, 1, promptTokens, batchSize, precision);
        double passes = outputTokens - 1;
        var kvPerToken = KvCacheBytesPerToken(architecture, precision) * batchSize;
        var sumOfCached = passes * ((2.0 * promptTokens) + outputTokens - 2.0) / 2.0;
        return new BytesMoved(first.WeightBytes * passes, kvPerToken * sumOfCached, first.KvCacheWriteBytes * passes);
    }

    private static double CachedTokensRead(TransformerArchitecture a, int cachedTokens) =>
        a.SlidingWindowTokens is { } w ? Math.Min(cachedTokens, w - 1) : cachedTokens;
}
