namespace LlmEff.Profiling.Api;

/// <summary>Progress of a load study, reported after every finished request.</summary>
/// <param name="LevelIndex">0-based index of the level running.</param>
/// <param name="Levels">Levels in the study.</param>
/// <param name="Mode">Concurrency or request rate.</param>
/// <param name="Load">The level: requests in flight, or requests per second.</param>
/// <param name="Finished">Requests of this level finished so far.</param>
/// <param name="Failed">Requests of this level that failed.</param>
/// <param name="Latest">The request just finished.</param>
public sealed record LoadStudyProgress(int LevelIndex, int Levels, LoadStudyMode Mode, double Load, int Finished, int Failed, ApiSampleRecord Latest);
