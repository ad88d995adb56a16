
namespace LlmEff.Profiling.Api;

/// <summary>Progress of a run, reported after every finished request.</summary>
/// <param name="Finished">Planned requests done so far, those found finished in the journal included.</param>
/// <param name="Total">Planned requests.</param>
/// <param name="Skipped">Requests skipped because the journal already had them.</param>
/// <param name="Failed">Requests of this run that failed after all retries.</param>
/// <param name="Latest">The record just journaled, if any.</param>
public sealed record ApiProfilingProgress(long Finished, long Total, long Skipped, long Failed, ApiSampleRecord? Latest);
