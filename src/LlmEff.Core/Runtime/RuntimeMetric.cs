namespace LlmEff.Core;

/// <summary>Which of the paper's runtime metrics (§4.1) a <see cref="RuntimeModel"/> represents.</summary>
public enum RuntimeMetric
{
    /// <summary>Not stated.</summary>
    Unspecified = 0,

    /// <summary>Fitted on a fixed, fast hardware/software stack from random-weight models.</summary>
    Idealized = 1,

    /// <summary>Fitted against a black-box API using the minimum over trials.</summary>
    Denoised = 2,

    /// <summary>Fitted on raw API runtimes without denoising.</summary>
    Raw = 3,
}
