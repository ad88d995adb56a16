
namespace LlmEff.Profiling.Api.Tests.Analysis;

public sealed class AnalysisTests
{
    private static ApiSampleRecord Ok(int p, int o, int trial, double seconds, int concurrency = 1) => new()
    {
        PromptTokens = p,
        OutputTokens = o,
        Trial = trial,
        Concurrency = concurrency,
        Status = ApiSampleStatus.Succeeded,
        RuntimeSeconds = seconds,
        ReportedPromptTokens = p,
        ReportedOutputTokens = o,
    };

    [Fact]
    public void DenoisedFit_UsesTheMinimum_AndReportsSpreadAndShareAbove()
    {
        // Truth: PE(100) = 1.0 s, PE(200) = 1.5 s, g = 0.1 s; trial 0 is exact, trials 1 and 2 add +0.2 s and +0.4 s.
        var records = new List<ApiSampleRecord>();
        foreach (var p in new[] { 100, 200 })
        {
            foreach (var o in new[] { 1, 11 })
            {
                var exact = (p == 100 ? 1.0 : 1.5) + ((o - 1) * 0.1);
                records.Add(Ok(p, o, 0, exact));
                records.Add(Ok(p, o, 1, exact + 0.2));
                records.Add(Ok(p, o, 2, exact + 0.4));
                records.Add(Ok(p, o, 0, exact * 3, concurrency: 4)); // loaded samples stay out of the denoised fit
            }
        }

        records.Add(new ApiSampleRecord { PromptTokens = 100, OutputTokens = 1, Trial = 3, Concurrency = 1, Status = ApiSampleStatus.Failed });

        var report = DenoisedRuntimeAnalysis.Analyze(records);

        Assert.Equal(0.1, report.Model.PerOutputTokenSeconds, 9);
        Assert.Equal(1.0, report.Model.PromptEncodingSeconds(100), 9);
        Assert.Equal(1.5, report.Model.PromptEncodingSeconds(200), 9);
        Assert.Equal(12, report.RawVersusDenoised.Count);
        Assert.Equal(8.0 / 12, report.ShareAboveDenoised, 9);
        Assert.Equal(1, report.FailedRequests);
        // (p=100, o=1): runtimes 1.0, 1.2, 1.4: mean 1.2, sample sd 0.2, CV 1/6.
        var first = report.Configurations[0];
        Assert.Equal((100, 1, 3), (first.PromptTokens, first.OutputTokens, first.Trials));
        Assert.Equal(0.2, first.StandardDeviationSeconds, 9);
        Assert.Equal(1.0 / 6, first.CoefficientOfVariation, 9);
        Assert.Equal(1.4, first.MaximumOverMinimum, 9);
        // Every configuration has sd 0.2; means 1.2, 2.2, 1.7, 2.7.
        Assert.Equal(new[] { 0.2 / 1.2, 0.2 / 2.2, 0.2 / 1.7, 0.2 / 2.7 }.Average(), report.MeanCoefficientOfVariation, 9);
        Assert.Null(report.MedianInterTokenGapSeconds);
    }

    [Fact]
    public void LoadStudy_GroupsByConcurrency_AndComparesMinima()
    {
        var records = new[]
        {
            Ok(512, 8, 0, 1.0), Ok(512, 8, 1, 1.5),
            Ok(512, 8, 0, 1.6, 2), Ok(512, 8, 0, 1.8, 2), Ok(512, 8, 1, 2.0, 2), Ok(512, 8, 1, 2.6, 2),
        };

        var points = LoadStudyAnalysis.Analyze(records);

        Assert.Equal(2, points.Count);
        Assert.Equal(new LoadStudyPoint(512, 8, 1, 2, 1.0, 1.25, 1.25, 1.5, 1.0), points[0]);
        Assert.Equal(new LoadStudyPoint(512, 8, 2, 4, 1.6, 1.9, 2.0, 2.6, 1.6), points[1] with { MeanSeconds = Math.Round(points[1].MeanSeconds, 12) });
    }

    [Fact]
    public void NoSuccessfulSamples_IsAClearError()
    {
        var failed = new ApiSampleRecord
        {
            PromptTokens = 1, OutputTokens = 1, Trial = 0, Concurrency = 1, Status = ApiSampleStatus.Failed,
            Attempts = [new(1, EndpointFailureKind.ConnectionFailed, null, 0.01, null, null, "Connection to m at http://127.0.0.1:9/v1/completions failed: Connection refused")],
        };
        var error = Assert.Throws<ArgumentException>(() => DenoisedRuntimeAnalysis.Analyze([failed, failed with { Trial = 1 }]));
        // The reason, not only the count: a user must see why nothing could be fitted.
        Assert.Contains("no usable sample: 2 failed (2 × ConnectionFailed: Connection to m at http://127.0.0.1:9/v1/completions failed: Connection refused)", error.Message, StringComparison.Ordinal);

        // One request that failed again on resume is one failed request.
        var again = Assert.Throws<ArgumentException>(() => DenoisedRuntimeAnalysis.Analyze([failed, failed]));
        Assert.Contains("The 2 records hold no usable sample: 1 failed (1 × ConnectionFailed", again.Message, StringComparison.Ordinal);
    }

    private static ApiSampleRecord Answer(int o, int trial, int concurrency, int slot, double seconds, int? inFlight = null, int template = 0) => new()
    {
        PromptTokens = 16, OutputTokens = o, Trial = trial, Concurrency = concurrency, Slot = slot, Status = ApiSampleStatus.Succeeded,
        RuntimeSeconds = seconds, ReportedPromptTokens = 16 + template, ReportedOutputTokens = o, CountMismatch = template != 0, InFlight = inFlight ?? concurrency,
    };

    [Fact]
    public void MismatchedSamples_CountsTheFittedSamplesOnly()
    {
        // Chat route (5 template tokens on every answer), levels 1 and 4: only level 1 is fitted.
        var records = new[] { 2, 4, 8 }.SelectMany(o => Enumerable.Range(0, 2).SelectMany(trial =>
            Enumerable.Range(0, 4).Select(slot => Answer(o, trial, 4, slot, 0.2 + (0.02 * o), template: 5))
                .Append(Answer(o, trial, 1, 0, 0.1 + (0.01 * o) + (0.001 * trial), template: 5)))).ToList();

        var report = DenoisedRuntimeAnalysis.Analyze(records);

        Assert.Equal(6, report.RawVersusDenoised.Count);
        Assert.Equal(6, report.MismatchedSamples);
    }

    [Fact]
    public void APlanWithoutLevel1_FitsItsLowestLevel_NotOneRetryThatRanAlone()
    {
        // Levels [4] only; one request was retried after its batch had finished, alone (InFlight 1).
        var records = new[] { 2, 4, 8 }.SelectMany(o => Enumerable.Range(0, 4)
            .Select(slot => Answer(o, 0, 4, slot, 0.2 + (0.02 * o), inFlight: o == 2 && slot == 0 ? 1 : 4))).ToList();

        var report = DenoisedRuntimeAnalysis.Analyze(records);

        Assert.Equal(12, report.RawVersusDenoised.Count);
        Assert.Equal(0.02, report.Model.PerOutputTokenSeconds, 9);
    }
}
