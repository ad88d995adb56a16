using LlmEff.Core;

namespace LlmEff.Profiling.Api;

/// <summary>
/// The samples read from another tool's per-request benchmark log, with every request that did not become a sample
/// and why: nothing is dropped silently.
/// </summary>
/// <param name="Format">The tool whose log this is.</param>
/// <param name="FormatVersion">Which version of the tool's format was read (the tool's own version where the log records it).</param>
/// <param name="SourceName">The file (or stream name) read.</param>
/// <param name="TotalRequests">Every request the log lists: <see cref="Samples"/> plus <see cref="Exclusions"/>.</param>
/// <param name="Samples">One sample per kept request; <see cref="ProfilingSample.Source"/> names the tool and the file.</param>
/// <param name="Exclusions">Every request left out, in log order, with its reason.</param>
public sealed record ImportedBenchmarkLog(
    BenchmarkLogFormat Format,
    string FormatVersion,
    string SourceName,
    int TotalRequests,
    IReadOnlyList<ProfilingSample> Samples,
    IReadOnlyList<BenchmarkLogExclusion> Exclusions)
{
    /// <summary>
    /// Requests kept although their output length differs from the requested one
    /// (<see cref="BenchmarkImportOptions.FitMismatchedOnReportedLength"/>); they are in <see cref="Samples"/>.
    /// </summary>
    public int KeptMismatchedCount { get; init; }

    /// <summary>What the reader derived rather than read, e.g. a runtime summed from inter-token latencies.</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];

    /// <summary>How many requests were left out for each reason (reasons with none are absent).</summary>
    public IReadOnlyDictionary<BenchmarkExclusionReason, int> ExclusionCounts
        => Exclusions.GroupBy(e => e.Reason).OrderBy(g => g.Key).ToDictionary(g => g.Key, g => g.Count());

    /// <summary>How many requests were left out for <paramref name="reason"/>.</summary>
    public int ExcludedCount(BenchmarkExclusionReason reason) => Exclusions.Count(e => e.Reason == reason);
}
