namespace LlmEff.Core.Evaluation;

/// <summary>How one estimation method did on one grid.</summary>
/// <param name="Method">Method name.</param>
/// <param name="Queries">Configuration queries the method measured.</param>
/// <param name="ProfilingSeconds">Total runtime of those queries: what the profiling itself costs.</param>
/// <param name="HeldOut">Error on every grid configuration the method did not measure.</param>
/// <param name="CrossValidated">The fit's own error estimate (pooled cross-validation), or null if it has none.</param>
/// <param name="Model">The fitted model.</param>
public sealed record MethodAccuracy(string Method, int Queries, double ProfilingSeconds, ErrorSummary HeldOut, ErrorSummary? CrossValidated, RuntimeModel Model);
