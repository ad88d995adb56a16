namespace LlmEff.Core.Batching;

/// <summary>
/// One prediction of <see cref="BatchedRuntimeModel"/>: the runtime of a static batch of <see cref="BatchSize"/> queries,
/// each with <see cref="PromptTokens"/> prompt tokens generating <see cref="OutputTokens"/> tokens.
/// </summary>
/// <param name="PromptTokens">Prompt size <c>p</c> of every query in the batch.</param>
/// <param name="OutputTokens">Output tokens <c>o</c> of every query in the batch.</param>
/// <param name="BatchSize">Queries run together, <c>b</c>.</param>
/// <param name="PromptEncodingSeconds"><c>PE(p, b)</c>: encoding all <c>b</c> prompts in one pass.</param>
/// <param name="DecodeSeconds">The <c>o − 1</c> batched decode steps.</param>
/// <param name="BatchSeconds">End-to-end runtime of the whole batch, <c>t(p, o, b)</c>; every query of it finishes then.</param>
/// <param name="IsBatchSizeExtrapolated">True when <c>b</c> lies outside the profiled batch sizes: the number follows the nearest profiled segment and has no measured support.</param>
/// <param name="IsPromptExtrapolated">True when <c>p</c> lies outside the profiled prompt sizes.</param>
public sealed record BatchedRuntimePrediction(
    int PromptTokens,
    int OutputTokens,
    int BatchSize,
    double PromptEncodingSeconds,
    double DecodeSeconds,
    double BatchSeconds,
    bool IsBatchSizeExtrapolated,
    bool IsPromptExtrapolated)
{
    /// <summary>Mean time between output tokens of one query: the decode time over <c>o − 1</c> steps, or the prompt encoding when <c>o = 1</c> (the only token then comes from it).</summary>
    public double TimePerOutputTokenSeconds => OutputTokens > 1 ? DecodeSeconds / (OutputTokens - 1) : PromptEncodingSeconds;

    /// <summary>True when either input lies outside what was profiled.</summary>
    public bool IsExtrapolated => IsBatchSizeExtrapolated || IsPromptExtrapolated;
}
