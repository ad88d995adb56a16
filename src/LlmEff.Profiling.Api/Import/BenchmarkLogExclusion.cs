namespace LlmEff.Profiling.Api;

/// <summary>A request of a benchmark log that did not become a sample, and why.</summary>
/// <param name="RequestIndex">The request's 0-based position in the log, in the order the file lists requests.</param>
/// <param name="Reason">Why it was left out.</param>
/// <param name="Detail">What the log says about it (the tool's error message, the lengths that differ, ...).</param>
public sealed record BenchmarkLogExclusion(int RequestIndex, BenchmarkExclusionReason Reason, string Detail);
