namespace LlmEff.Extensions.AI;

/// <summary>What a response's token usage allowed the metrics to be computed from.</summary>
public enum TokenUsageStatus
{
    /// <summary>
    /// The response reported no usable prompt and output token counts (no <c>UsageDetails</c>, a count missing, or a
    /// negative count). Only the raw runtime is known; the idealized metrics are <see langword="null"/>, never guessed.
    /// </summary>
    Missing = 0,

    /// <summary>Prompt tokens <c>p</c> and output tokens <c>o ≥ 1</c> were reported: every metric is computed.</summary>
    Reported = 1,

    /// <summary>
    /// The response reported 0 output tokens (a non-generating call, e.g. an immediate stop). The prompt was still
    /// encoded, so, as HELM does, the runtime is <c>PE(p)</c> plus any overhead, i.e. the model's <c>t(p, 1)</c>
    /// with no decoding steps.
    /// </summary>
    NoOutputTokens = 2,
}
