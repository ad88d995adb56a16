using LlmEff.Core.Architecture;

namespace LlmEff.Core.Analysis;

/// <summary>
/// The paper's floating-point operation counts (§3.1.1 and Appendix A), exactly as written: matrix multiplications
/// of the Transformer layers only, a <c>4h</c> FFN, multi-head attention, and no vocabulary projection or sampling
/// (which the paper neglects as cheap). For the general count see <see cref="TransformerFlops"/>.
/// </summary>
public static class PaperFlops
{
    /// <summary>Prompt encoding: <c>24·b·p·h²·l·(1 + p/(6h))</c> (§3.1.1, Appendix A.1 with <c>s = p</c>).</summary>
    /// <param name="hiddenSize"><c>h</c>.</param>
    /// <param name="layers"><c>l</c>.</param>
    /// <param name="promptTokens"><c>p</c>, at least 1.</param>
    /// <param name="batchSize"><c>b</c>, at least 1.</param>
    public static double PromptEncoding(int hiddenSize, int layers, int promptTokens, int batchSize = 1)
    {
        CheckShape(hiddenSize, layers, batchSize);
        ArgumentOutOfRangeException.ThrowIfLessThan(promptTokens, 1);
        double h = hiddenSize, p = promptTokens;
        return 24.0 * batchSize * p * h * h * layers * (1.0 + (p / (6.0 * h)));
    }

    /// <summary>
    /// Generating token <c>i + 1</c> when <c>i</c> tokens (prompt included) exist: <c>24·b·h²·l·(1 + i/(6h))</c>
    /// (§3.1.1, Appendix A.2).
    /// </summary>
    /// <param name="hiddenSize"><c>h</c>.</param>
    /// <param name="layers"><c>l</c>.</param>
    /// <param name="tokensSoFar"><c>i</c>, at least 1.</param>
    /// <param name="batchSize"><c>b</c>, at least 1.</param>
    public static double OutputToken(int hiddenSize, int layers, int tokensSoFar, int batchSize = 1)
    {
        CheckShape(hiddenSize, layers, batchSize);
        ArgumentOutOfRangeException.ThrowIfLessThan(tokensSoFar, 1);
        double h = hiddenSize;
        return 24.0 * batchSize * h * h * layers * (1.0 + (tokensSoFar / (6.0 * h)));
    }

    /// <summary>
    /// The <c>o − 1</c> generation passes of a query (the first output token comes from prompt encoding): the sum of
    /// <see cref="OutputToken(int, int, int, int)"/> over <c>i = p + 1 … p + o − 1</c>, in closed form
    /// <c>24·b·h²·l·(o − 1) + 4·b·h·l·(o − 1)(2p + o)/2</c>.
    /// </summary>
    public static double Generation(int hiddenSize, int layers, int promptTokens, int outputTokens, int batchSize = 1)
    {
        CheckShape(hiddenSize, layers, batchSize);
        ArgumentOutOfRangeException.ThrowIfLessThan(promptTokens, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(outputTokens, 1);
        double h = hiddenSize, passes = outputTokens - 1;
        var sumOfI = passes * ((2.0 * promptTokens) + outputTokens) / 2.0;
        return (24.0 * batchSize * h * h * layers * passes) + (4.0 * batchSize * h * layers * sumOfI);
    }

    /// <summary>A whole query: prompt encoding plus generation.</summary>
    public static double Query(int hiddenSize, int layers, int promptTokens, int outputTokens, int batchSize = 1)
        => PromptEncoding(hiddenSize, layers, promptTokens, batchSize) + Generation(hiddenSize, layers, promptTokens, outputTokens, batchSize);

    /// <summary>Prompt encoding for <paramref name="architecture"/>'s <c>h</c> and <c>l</c>.</summary>
    public static double PromptEncoding(TransformerArchitecture architecture, int promptTokens, int batchSize = 1)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        return PromptEncoding(architecture.HiddenSize, architecture.Layers, promptTokens, batchSize);
    }

    /// <summary>Generating token <c>i + 1</c> for <paramref name="architecture"/>'s <c>h</c> and <c>l</c>.</summary>
    public static double OutputToken(TransformerArchitecture architecture, int tokensSoFar, int batchSize = 1)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        return OutputToken(architecture.HiddenSize, architecture.Layers, tokensSoFar, batchSize);
    }

    /// <summary>A whole query for <paramref name="architecture"/>'s <c>h</c> and <c>l</c>.</summary>
    public static double Query(TransformerArchitecture architecture, int promptTokens, int outputTokens, int batchSize = 1)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        return Query(architecture.HiddenSize, architecture.Layers, promptTokens, outputTokens, batchSize);
    }

    /// <summary>
    /// The attention term's share relative to the rest, <c>tokens/(6h)</c>: the paper drops it when it is small
    /// (e.g. OpenAI/davinci at 2,048 tokens: 2048 / 73728 ≈ 2.8%).
    /// </summary>
    public static double AttentionTermRatio(int hiddenSize, int tokens)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(hiddenSize, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(tokens);
        return tokens / (6.0 * hiddenSize);
    }

    private static void CheckShape(int hiddenSize, int layers, int batchSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(hiddenSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(layers, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
    }
}
