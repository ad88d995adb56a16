namespace LlmEff.Core;

/// <summary>How repeated trials of the same <c>(p, o)</c> configuration are combined before regressing.</summary>
public enum TrialAggregation
{
    /// <summary>
    /// Minimum over trials (paper §4.1): performance noise is non-negative, so the minimum is the
    /// least-contended observation. This is the denoised-runtime estimator and the default.
    /// </summary>
    Minimum = 0,

    /// <summary>Arithmetic mean over trials (what Megatron's logs report).</summary>
    Mean = 1,

    /// <summary>Median over trials: robust to rare outliers in either direction.</summary>
    Median = 2,

    /// <summary>Every sample is regressed as is; trials of one configuration weigh by their count.</summary>
    All = 3,
}
