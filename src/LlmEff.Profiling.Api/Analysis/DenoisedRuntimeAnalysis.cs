using System.Globalization;
using LlmEff.Core;
using Microsoft.Extensions.Logging;

namespace LlmEff.Profiling.Api;

/// <summary>Fits the denoised runtime from a journal and measures the noise it removes (paper §3.5, §4.1, Figures 5 and 7a).</summary>
public static class DenoisedRuntimeAnalysis
{
    /// <summary>
    /// Fits <c>t(p, o) = PE(p) + (o − 1)·g</c> to the minimum over trials of each configuration, using the samples
    /// sent without concurrent load (the lowest planned concurrency level; at level 1, the requests that ran alone) and the
    /// server-reported token counts.
    /// </summary>
    /// <param name="records">Journal records, e.g. <see cref="ApiProfilingResult.Records"/>.</param>
    /// <param name="fitOptions">
    /// Overhead handling and metadata; the aggregation is always <see cref="TrialAggregation.Minimum"/>, and a fit that is not physical is always
    /// kept (<see cref="RuntimeFitOptions.KeepNonPhysicalFit"/>) with its <see cref="RuntimeModel.Warnings"/>.
    /// </param>
    /// <param name="logger">Receives the fitter's warnings.</param>
    /// <param name="fitReportedLength">
    /// False (the default) leaves out answers whose reported output length differs from the requested one
    /// (<see cref="ApiSampleRecord.OutputLengthMismatch"/>), since the plan asked for exact lengths; true fits them on
    /// the length the server reported. Either way they are counted in <see cref="DenoisedRuntimeReport.OutputLengthMismatches"/>.
    /// </param>
    /// <remarks>
    /// Samples whose token counts cannot be trusted are left out and listed in <see cref="DenoisedRuntimeReport.Exclusions"/>:
    /// <see cref="ApiSampleStatus.Suspect"/> records, answers without usage, and a reported prompt size that differs
    /// from what the other requests of the same requested size report.
    /// </remarks>
    /// <exception cref="ArgumentException">No usable sample (the message gives the failures' reasons), or too few output lengths per prompt size to fit.</exception>
    public static DenoisedRuntimeReport Analyze(IEnumerable<ApiSampleRecord> records, RuntimeFitOptions? fitOptions = null, ILogger? logger = null, bool fitReportedLength = false)
    {
        ArgumentNullException.ThrowIfNull(records);
        var all = records.ToArray();
        var exclusions = new List<SampleExclusion>();
        var candidates = new List<ApiSampleRecord>();
        var answered = 0;
        var lengthMismatches = 0;
        foreach (var record in all)
        {
            if (record.Status == ApiSampleStatus.Suspect)
            {
                exclusions.Add(new SampleExclusion(record.Key, record.Issue ?? "journaled as suspect"));
            }
            else if (record.Status == ApiSampleStatus.Succeeded && record.ToProfilingSample() is not null)
            {
                // Journals of older versions (and IChatClient providers) may hold answers without usage.
                if (record.ReportedPromptTokens is null || record.ReportedOutputTokens is null)
                {
                    exclusions.Add(new SampleExclusion(record.Key, "the answer carried no usage, so the tokens behind its runtime are unknown"));
                }
                else
                {
                    answered++;
                    if (record.OutputLengthMismatch)
                    {
                        lengthMismatches++;
                    }

                    if (record.OutputLengthMismatch && !fitReportedLength)
                    {
                        exclusions.Add(new SampleExclusion(
                            record.Key,
                            string.Create(CultureInfo.InvariantCulture, $"usage reports {record.ReportedOutputTokens} output tokens where {record.OutputTokens} were asked for (fit reported lengths to keep it)")));
                    }
                    else
                    {
                        candidates.Add(record);
                    }
                }
            }
        }

        var succeeded = ExcludePromptOutliers(candidates, exclusions);
        if (succeeded.Length == 0)
        {
            throw new ArgumentException($"The {all.Length} records hold no usable sample: {Describe(all, exclusions)}.", nameof(records));
        }

        // The least loaded samples of the lowest planned level: at level 1, those that ran alone (a retry of a larger batch
        // that ran alone too). A plan without level 1 fits its lowest level whole, so that one retry that ran alone does not
        // stand for the whole plan; a request-rate study (no level) fits its least loaded samples.
        var lowestLevel = succeeded.Min(r => r.Concurrency);
        var least = succeeded.Min(r => r.EffectiveConcurrency);
        var used = succeeded.Where(r => lowestLevel > 0 ? r.EffectiveConcurrency <= lowestLevel : r.EffectiveConcurrency == least).ToArray();
        var samples = used.Select(r => r.ToProfilingSample()!).ToArray();
        // A black-box endpoint's fit comes after a long, often paid run and the paper saw R² of 0.917-0.997 there, so a
        // non-physical fit is kept with its warnings (DenoisedRuntimeReport.Model.Warnings; 'profile api' prints them) rather than lost.
        var options = (fitOptions ?? RuntimeFitOptions.Default) with
        {
            KeepNonPhysicalFit = true,
            Aggregation = TrialAggregation.Minimum,
            Metadata = (fitOptions?.Metadata ?? new RuntimeModelMetadata()) with
            {
                Metric = RuntimeMetric.Denoised,
                Source = fitOptions?.Metadata?.Source ?? used[0].Endpoint,
                MeasuredUtc = fitOptions?.Metadata?.MeasuredUtc ?? used.Max(r => r.StartedUtc),
            },
        };
        var model = RuntimeModel.Fit(samples, options, logger);

        var configurations = samples
            .GroupBy(s => (s.PromptTokens, s.OutputTokens))
            .OrderBy(g => g.Key.PromptTokens).ThenBy(g => g.Key.OutputTokens)
            .Select(g => Variation(g.Key.PromptTokens, g.Key.OutputTokens, g.Select(s => s.RuntimeSeconds).ToArray()))
            .ToArray();
        var withSpread = configurations.Where(c => c.Trials >= 2).ToArray();
        var raw = samples
            .Select(s => new SampleResidual(s.PromptTokens, s.OutputTokens, s.RuntimeSeconds, model.Predict(s.PromptTokens, s.OutputTokens)))
            .ToArray();

        var streamed = used.Where(r => r.Stream).ToArray();
        return new DenoisedRuntimeReport
        {
            Model = model,
            Configurations = configurations,
            MeanCoefficientOfVariation = withSpread.Length == 0 ? double.NaN : withSpread.Average(c => c.CoefficientOfVariation),
            RawVersusDenoised = raw,
            ShareAboveDenoised = raw.Count(IsAbove) / (double)raw.Length,
            MismatchedSamples = used.Count(r => r.CountMismatch),
            OutputLengthMismatches = lengthMismatches,
            OutputLengthMismatchShare = answered == 0 ? 0 : lengthMismatches / (double)answered,
            ExcludedSamples = exclusions.Count,
            Exclusions = exclusions,
            FailedRequests = StillFailed(all).Length,
            MedianTimeToFirstTokenSeconds = Median(streamed.Where(r => r.TimeToFirstTokenSeconds is not null).Select(r => r.TimeToFirstTokenSeconds!.Value)),
            MedianInterTokenGapSeconds = Median(streamed.SelectMany(r => r.InterTokenGapsSeconds ?? Array.Empty<double>())),
        };
    }

    // A server that reports another prompt size for one request than for the rest of its prompt size has miscounted
    // (or answered another request): fitted, that count would become a knot of its own with one output length.
    private static ApiSampleRecord[] ExcludePromptOutliers(List<ApiSampleRecord> records, List<SampleExclusion> exclusions)
    {
        var kept = new List<ApiSampleRecord>(records.Count);
        foreach (var group in records.GroupBy(r => (r.PromptTokens, r.Stream)))
        {
            var counts = group.GroupBy(r => r.ReportedPromptTokens!.Value).ToArray();
            if (counts.Length == 1)
            {
                kept.AddRange(group);
                continue;
            }

            // The most common count wins; a tie goes to the count nearest the request (a chat template only adds).
            var usual = counts
                .OrderByDescending(c => c.Count())
                .ThenBy(c => Math.Abs(c.Key - group.Key.PromptTokens))
                .First().Key;
            foreach (var record in group)
            {
                if (record.ReportedPromptTokens == usual)
                {
                    kept.Add(record);
                }
                else
                {
                    exclusions.Add(new SampleExclusion(
                        record.Key,
                        string.Create(CultureInfo.InvariantCulture, $"usage reports {record.ReportedPromptTokens} prompt tokens where the other requests of p = {group.Key.PromptTokens} report {usual}")));
                }
            }
        }

        return kept.ToArray();
    }

    // A resumed run sends a failed request again and journals the answer beside the failure, so a request counts as failed
    // only while no record of its key has another status; its last failure stands for it. A request the run was cancelled
    // on (journaled so that its attempts count against the budget) was interrupted, not failed.
    private static ApiSampleRecord[] StillFailed(ApiSampleRecord[] all)
        => all.GroupBy(r => r.Key)
            .Where(g => g.All(r => r.Status == ApiSampleStatus.Failed))
            .Select(g => g.Last())
            .Where(r => r.Attempts.Count == 0 || !Interrupted(r.Attempts[^1]))
            .ToArray();

    // A request the run stopped on did not fail for good: cancelled in flight, or cancelled while waiting for a retry
    // that had been scheduled (the last attempt carries its delay).
    private static bool Interrupted(ApiAttempt last)
        => last.Failure == EndpointFailureKind.Cancelled || last.DelayBeforeRetrySeconds is not null;

    // Why nothing could be fitted, in the words of the journal: the failures' and exclusions' most common reasons.
    private static string Describe(ApiSampleRecord[] all, List<SampleExclusion> exclusions)
    {
        var parts = new List<string>();
        var failed = StillFailed(all);
        if (failed.Length > 0)
        {
            var reasons = failed
                .Select(r => r.Attempts.Count > 0 ? r.Attempts[^1] : null)
                .GroupBy(a => a is null ? "no attempt recorded" : $"{a.Failure?.ToString() ?? "unknown"}: {a.Message}")
                .OrderByDescending(g => g.Count())
                .Take(3)
                .Select(g => $"{g.Count()} × {g.Key}");
            parts.Add($"{failed.Length} failed ({string.Join("; ", reasons)})");
        }

        if (exclusions.Count > 0)
        {
            var reasons = exclusions.GroupBy(e => e.Reason).OrderByDescending(g => g.Count()).Take(3).Select(g => $"{g.Count()} × {g.Key}");
            parts.Add($"{exclusions.Count} excluded ({string.Join("; ", reasons)})");
        }

        return parts.Count == 0 ? "profile first" : string.Join(", ", parts);
    }

    // "Above" means by more than rounding: the minimum a line passes through exactly must not count as slower.
    private static bool IsAbove(SampleResidual r) => r.ObservedSeconds - r.PredictedSeconds > 1e-9 * Math.Abs(r.PredictedSeconds);

    internal static ConfigurationVariation Variation(int p, int o, double[] runtimes)
    {
        var mean = runtimes.Average();
        var sd = runtimes.Length < 2
            ? double.NaN
            : Math.Sqrt(runtimes.Sum(t => (t - mean) * (t - mean)) / (runtimes.Length - 1));
        return new ConfigurationVariation(p, o, runtimes.Length, runtimes.Min(), mean, sd, runtimes.Max());
    }

    internal static double? Median(IEnumerable<double> values)
    {
        var all = values.ToArray();
        return all.Length == 0 ? null : Percentiles.Median(all);
    }
}
