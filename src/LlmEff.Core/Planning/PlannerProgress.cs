namespace LlmEff.Core.Planning;

/// <summary>Progress of an adaptive profiling run.</summary>
/// <param name="Completed">Queries made so far: distinct configurations, plus repeated anchors' second trials.</param>
/// <param name="Budget">Queries the run may make.</param>
/// <param name="Last">The query just measured.</param>
public sealed record PlannerProgress(int Completed, int Budget, ConfigurationQuery Last);
