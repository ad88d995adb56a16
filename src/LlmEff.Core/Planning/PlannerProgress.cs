namespace LlmEff.Core.Planning;

/// <summary>Progress of an adaptive profiling run.</summary>
/// <param name="Completed">Distinct configurations measured so far.</param>
/// <param name="Budget">Configurations the run may measure.</param>
/// <param name="Last">The query just measured.</param>
public sealed record PlannerProgress(int Completed, int Budget, ConfigurationQuery Last);
