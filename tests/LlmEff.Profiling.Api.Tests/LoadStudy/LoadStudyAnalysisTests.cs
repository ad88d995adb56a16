using LlmEff.Core;

namespace LlmEff.Profiling.Api.Tests.LoadStudy;

/// <summary>Percentiles, TPOT, throughput and goodput on data small enough to check by hand.</summary>
public sealed class LoadStudyAnalysisTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static ApiSampleRecord Request(int sequence, double offset, double e2e, double ttft, int o = 11, int? reported = null, ApiSampleStatus status = ApiSampleStatus.Succeeded, int concurrency = 2, double? rate = null) => new()
    {
        PromptTokens = 8,
        OutputTokens = o,
        Trial = sequence,
        Concurrency = concurrency,
        RequestRate = rate,
        Stream = true,
        Status = status,
        RuntimeSeconds = status == ApiSampleStatus.Failed ? null : e2e,
        TimeToFirstTokenSeconds = status == ApiSampleStatus.Failed ? null : ttft,
        InterTokenGapsSeconds = status == ApiSampleStatus.Failed ? null : Enumerable.Repeat((e2e - ttft) / ((reported ?? o) - 1), (reported ?? o) - 1).ToArray(),
        ReportedPromptTokens = status == ApiSampleStatus.Failed ? null : 8,
        ReportedOutputTokens = status == ApiSampleStatus.Failed ? null : reported ?? o,
        LoadOffsetSeconds = offset,
        StartedUtc = T0.AddSeconds(offset),
        Attempts = [new ApiAttempt(1, status == ApiSampleStatus.Failed ? EndpointFailureKind.Timeout : null, null, status == ApiSampleStatus.Failed ? 3 : e2e, null, null, null)],
    };

    [Fact]
    public void OneLevel_HandComputed()
    {
        // e2e 1, 2, 3, 4 s; TTFT 0.1 .. 0.4 s; o = 11, so TPOT = (e2e − ttft) / 10 = 0.09, 0.18, 0.27, 0.36 s.
        // Sent at 0, 0, 1, 2 s: the last one finishes at 6 s, so the wall span is 6 s. A fifth request failed at 2.5 s after 3 s.
        ApiSampleRecord[] records =
        [
            Request(0, 0, 1, 0.1), Request(1, 0, 2, 0.2), Request(2, 1, 3, 0.3), Request(3, 2, 4, 0.4),
            Request(4, 2.5, 0, 0, status: ApiSampleStatus.Failed),
        ];

        var level = Assert.Single(LoadStudyAnalysis.Summarize(records, ServiceLevelObjectives.Parse("ttft=0.25,tpot=0.2")));

        Assert.Equal((LoadStudyMode.Concurrency, 2.0, 5, 4, 1), (level.Mode, level.Load, level.Requests, level.Succeeded, level.Failed));
        Assert.Equal(6, level.WallSeconds, 12);
        Assert.Equal(4 / 6.0, level.RequestsPerSecond, 12);
        Assert.Equal(44 / 6.0, level.OutputTokensPerSecond, 12);
        // Type-7 percentiles of {1, 2, 3, 4}: p50 = 2.5, p90 = 3.7, p99 = 3.97.
        Assert.Equal(4, level.EndToEnd!.Samples);
        Assert.Equal(2.5, level.EndToEnd.P50Seconds, 12);
        Assert.Equal(3.7, level.EndToEnd.P90Seconds, 12);
        Assert.Equal(3.97, level.EndToEnd.P99Seconds, 12);
        Assert.Equal(0.25, level.TimeToFirstToken!.P50Seconds, 12);
        Assert.Equal(0.225, level.TimePerOutputToken!.P50Seconds, 12);
        Assert.Equal(0.225, level.InterTokenLatency!.P50Seconds, 12);
        Assert.Equal(40, level.InterTokenLatency.Samples);
        // ttft ≤ 0.25 and tpot ≤ 0.2: requests 0 and 1 only; the failed one counts in the share's denominator.
        Assert.Equal(2, level.MeetingObjectives);
        Assert.Equal(2 / 5.0, level.GoodputShare, 12);
        Assert.Equal(2 / 6.0, level.GoodputRequestsPerSecond, 12);
        Assert.Equal(Percentiles.Of([1.0, 2, 3, 4], 99), level.EndToEnd.P99Seconds, 12);
    }

    [Fact]
    public void Levels_AreSeparatedAndOrdered_MismatchesCounted_ReportedLengthUsedForTpot()
    {
        ApiSampleRecord[] records =
        [
            Request(0, 0, 2, 0.5, rate: 4, concurrency: 0),
            Request(0, 0, 1, 0.2, o: 11, reported: 6, rate: 1, concurrency: 0), // ended early: TPOT over its 6 tokens
            Request(1, 0.5, 1, 0.2, rate: 1, concurrency: 0),
        ];

        var levels = LoadStudyAnalysis.Summarize(records);

        Assert.Equal(new[] { 1.0, 4.0 }, levels.Select(l => l.Load));
        Assert.All(levels, l => Assert.Equal(LoadStudyMode.RequestRate, l.Mode));
        Assert.Equal(1, levels[0].OutputLengthMismatches);
        Assert.Equal(0.8 / 5, LoadStudyAnalysis.TimePerOutputTokenSeconds(records[1])!.Value, 12);
        Assert.Equal(2, levels[0].MeetingObjectives); // no objectives: every succeeded request
        Assert.Equal(17, levels[0].OutputTokens);
    }

    [Fact]
    public void Objectives_ParseAndRefuseNonsense()
    {
        var slo = ServiceLevelObjectives.Parse("ttft=0.5, tpot=0.05,e2e=10");
        Assert.Equal((0.5, 0.05, 10.0), (slo.TimeToFirstTokenSeconds!.Value, slo.TimePerOutputTokenSeconds!.Value, slo.EndToEndSeconds!.Value));
        Assert.Equal("ttft=0.5,tpot=0.05,e2e=10", slo.ToString());
        Assert.Contains("unknown SLO 'foo'", Assert.Throws<ArgumentException>(() => ServiceLevelObjectives.Parse("foo=1")).Message, StringComparison.Ordinal);
        Assert.Contains("positive number", Assert.Throws<ArgumentException>(() => ServiceLevelObjectives.Parse("ttft=-1")).Message, StringComparison.Ordinal);
        Assert.Contains("twice", Assert.Throws<ArgumentException>(() => ServiceLevelObjectives.Parse("e2e=1,e2e=2")).Message, StringComparison.Ordinal);

        // A TTFT bound on answers that were not streamed would make goodput 0 for no reason: refused, with the fix.
        var unstreamed = Request(0, 0, 1, 0.1) with { TimeToFirstTokenSeconds = null, Stream = false };
        Assert.Contains("--stream", Assert.Throws<ArgumentException>(() => LoadStudyAnalysis.Summarize([unstreamed], slo)).Message, StringComparison.Ordinal);
        Assert.Equal(1, LoadStudyAnalysis.Summarize([unstreamed], ServiceLevelObjectives.Parse("e2e=2"))[0].MeetingObjectives);
    }

    [Fact]
    public void OneTokenAnswers_HaveNoTpot_AndMeetATpotBound()
    {
        var one = Request(0, 0, 0.3, 0.3, o: 1);
        Assert.Null(LoadStudyAnalysis.TimePerOutputTokenSeconds(one));
        Assert.True(ServiceLevelObjectives.Parse("tpot=0.001").IsMetBy(one));
        Assert.Null(LoadStudyAnalysis.Summarize([one])[0].TimePerOutputToken);
    }
}
