namespace LlmEff.Core;

/// <summary>A fitted model together with its own error estimates (no extra profiling needed).</summary>
/// <param name="Model">The model fitted on every sample.</param>
/// <param name="CrossValidation">Leave-one-prompt-size-out and leave-one-output-length-out errors.</param>
/// <param name="Bootstrap">Bootstrap intervals for PE, g and any prediction.</param>
public sealed record RuntimeFitAssessment(RuntimeModel Model, CrossValidationReport CrossValidation, BootstrapResult Bootstrap);
