using LlmEff.Core;

namespace LlmEff.Profiling.Torch;

/// <summary>Progress of a profiling run, reported after every timed query.</summary>
/// <param name="Completed">Timed points done, counting those resumed from the samples file.</param>
/// <param name="Total">Timed points in the run: the plan's, times the stages measured when a parallel layout is emulated.</param>
/// <param name="Resumed">Points found in the samples file and skipped.</param>
/// <param name="Latest">The sample just measured.</param>
public sealed record ProfilingProgress(int Completed, int Total, int Resumed, ProfilingSample Latest);
