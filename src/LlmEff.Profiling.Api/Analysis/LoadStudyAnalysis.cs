using LlmEff.Core;

namespace LlmEff.Profiling.Api;

/// <summary>Runtime against concurrent load (paper Figure 6), and the per-level latency, throughput and goodput of a load study.</summary>
public static class LoadStudyAnalysis
{
    /// <summary>
    /// Summarises successful records per (requested <c>p</c>, <c>o</c>, load), ordered by configuration then load; the
    /// load is <see cref="ApiSampleRecord.EffectiveConcurrency"/>, the requests really in flight. Answers of another length
    /// than the one asked for (<see cref="ApiSampleRecord.OutputLengthMismatch"/>, an early end of sequence) are left out,
    /// as <see cref="DenoisedRuntimeAnalysis"/> leaves them out: an 8-token answer would be the "minimum" of 64 tokens.
    /// </summary>
    /// <param name="records">Journal records of a run with several concurrency levels.</param>
    public static IReadOnlyList<LoadStudyPoint> Analyze(IEnumerable<ApiSampleRecord> records)
    {
        ArgumentNullException.ThrowIfNull(records);
        var points = new List<LoadStudyPoint>();
        var byConfiguration = records
            .Where(r => r.Status == ApiSampleStatus.Succeeded && r.RuntimeSeconds is > 0 && !r.OutputLengthMismatch)
            .GroupBy(r => (r.PromptTokens, r.OutputTokens))
            .OrderBy(g => g.Key.PromptTokens).ThenBy(g => g.Key.OutputTokens);
        foreach (var configuration in byConfiguration)
        {
            // By the load each sample ran at: a retry sent after the rest of its batch finished ran nearly alone.
            var levels = configuration.GroupBy(r => r.EffectiveConcurrency).OrderBy(g => g.Key).ToArray();
            var baseline = levels[0].Min(r => r.RuntimeSeconds!.Value);
            foreach (var level in levels)
            {
                var runtimes = level.Select(r => r.RuntimeSeconds!.Value).ToArray();
                var minimum = runtimes.Min();
                points.Add(new LoadStudyPoint(
                    configuration.Key.PromptTokens,
                    configuration.Key.OutputTokens,
                    level.Key,
                    runtimes.Length,
                    minimum,
                    Percentiles.Median(runtimes),
                    runtimes.Average(),
                    runtimes.Max(),
                    minimum / baseline));
            }
        }

        return points;
    }

    /// <summary>
    /// Summarises a load study's journal level by level (request-rate levels by <see cref="ApiSampleRecord.RequestRate"/>,
    /// concurrency levels by <see cref="ApiSampleRecord.Concurrency"/>), ordered by mode then load.
    /// </summary>
    /// <param name="records">Journal records, e.g. <see cref="LoadStudyResult.Records"/>.</param>
    /// <param name="objectives">Latency objectives for goodput; null counts every succeeded request.</param>
    /// <remarks>
    /// Latencies are over succeeded requests; TPOT is <c>(e2e − ttft) / (o − 1)</c> with <c>o</c> the reported output
    /// tokens (reasoning included) and is left out for one-token answers. Throughput and goodput rates divide by the
    /// level's wall span, from the first request sent to the last one finished (<see cref="ApiSampleRecord.LoadOffsetSeconds"/>,
    /// or the send times of journals without offsets).
    /// </remarks>
    /// <exception cref="ArgumentException">No record, or objectives on TTFT or TPOT for a journal without streamed timings.</exception>
    public static IReadOnlyList<LoadLevelSummary> Summarize(IEnumerable<ApiSampleRecord> records, ServiceLevelObjectives? objectives = null)
    {
        ArgumentNullException.ThrowIfNull(records);
        var all = records.ToArray();
        if (all.Length == 0)
        {
            throw new ArgumentException("The journal holds no request; run the load study first.", nameof(records));
        }

        if (objectives is { NeedsStreaming: true } && !all.Any(r => r.TimeToFirstTokenSeconds is not null))
        {
            throw new ArgumentException(
                $"The objectives '{objectives}' bound time to first token or TPOT, but no request was streamed; rerun with streaming (--stream) or bound e2e only.",
                nameof(objectives));
        }

        return all
            .GroupBy(r => r.RequestRate is { } rate ? (LoadStudyMode.RequestRate, rate) : (LoadStudyMode.Concurrency, (double)r.Concurrency))
            .OrderBy(g => g.Key.Item1).ThenBy(g => g.Key.Item2)
            .Select(g => Level(g.Key.Item1, g.Key.Item2, g.ToArray(), objectives))
            .ToArray();
    }

    /// <summary>Time per output token after the first, <c>(e2e − ttft) / (o − 1)</c> with the reported <c>o</c>; null without TTFT or for fewer than two tokens.</summary>
    public static double? TimePerOutputTokenSeconds(ApiSampleRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        var o = record.EffectiveOutputTokens;
        return record.RuntimeSeconds is { } e2e && record.TimeToFirstTokenSeconds is { } ttft && o >= 2
            ? (e2e - ttft) / (o - 1)
            : null;
    }

    private static LoadLevelSummary Level(LoadStudyMode mode, double load, ApiSampleRecord[] level, ServiceLevelObjectives? objectives)
    {
        var succeeded = level.Where(r => r.Status == ApiSampleStatus.Succeeded && r.RuntimeSeconds is > 0).ToArray();
        var firstSent = level.Min(r => r.StartedUtc);
        double Offset(ApiSampleRecord r) => r.LoadOffsetSeconds ?? (r.StartedUtc - firstSent).TotalSeconds;
        double Duration(ApiSampleRecord r) => r.RuntimeSeconds ?? (r.Attempts.Count > 0 ? r.Attempts[^1].ElapsedSeconds : 0);
        var wall = level.Max(r => Offset(r) + Duration(r)) - level.Min(Offset);
        var meeting = objectives is null ? succeeded.Length : succeeded.Count(objectives.IsMetBy);
        var outputTokens = succeeded.Sum(r => (long)r.EffectiveOutputTokens);

        // A level whose requests all failed at once has no span: its rates are 0, not a division by zero.
        double PerSecond(double count) => wall > 0 ? count / wall : 0;
        return new LoadLevelSummary
        {
            Mode = mode,
            Load = load,
            Requests = level.Length,
            Succeeded = succeeded.Length,
            Failed = level.Count(r => r.Status == ApiSampleStatus.Failed),
            Suspect = level.Count(r => r.Status == ApiSampleStatus.Suspect),
            OutputLengthMismatches = succeeded.Count(r => r.OutputLengthMismatch),
            OutputTokens = outputTokens,
            ReasoningTokens = succeeded.Sum(r => (long)(r.ReportedReasoningTokens ?? 0)),
            WallSeconds = wall,
            RequestsPerSecond = PerSecond(succeeded.Length),
            OutputTokensPerSecond = PerSecond(outputTokens),
            TimeToFirstToken = LatencyPercentiles.Of(succeeded.Where(r => r.TimeToFirstTokenSeconds is not null).Select(r => r.TimeToFirstTokenSeconds!.Value)),
            TimeToFirstContentToken = LatencyPercentiles.Of(succeeded.Where(r => r.TimeToFirstContentTokenSeconds is not null).Select(r => r.TimeToFirstContentTokenSeconds!.Value)),
            InterTokenLatency = LatencyPercentiles.Of(succeeded.SelectMany(r => r.InterTokenGapsSeconds ?? Array.Empty<double>())),
            TimePerOutputToken = LatencyPercentiles.Of(succeeded.Select(TimePerOutputTokenSeconds).Where(t => t is not null).Select(t => t!.Value)),
            EndToEnd = LatencyPercentiles.Of(succeeded.Select(r => r.RuntimeSeconds!.Value)),
            MeetingObjectives = meeting,
            GoodputShare = meeting / (double)level.Length,
            GoodputRequestsPerSecond = PerSecond(meeting),
        };
    }
}
