using LlmEff.Core;
using LlmEff.Profiling.Api.Journal;
using Microsoft.Extensions.Logging;

namespace LlmEff.Profiling.Api.Analysis;

/// <summary>Fits the denoised runtime from a journal and measures the noise it removes (paper §3.5, §4.1, Figures 5 and 7a).</summary>
public static class DenoisedRuntimeAnalysis
{
    /// <summary>
    /// Fits <c>t(p, o) = PE(p) + (o − 1)·g</c> to the minimum over trials of each configuration, using the samples
    /// sent without concurrent load (the lowest concurrency level present) and the server-reported token counts.
    /// </summary>
    /// <param name="records">Journal records, e.g. <see cref="Profiling.ApiProfilingResult.Records"/>.</param>
    /// <param name="fitOptions">
    /// Overhead handling and metadata; the aggregation is always <see cref="TrialAggregation.Minimum"/>, and a fit that is not physical is always
    /// kept (<see cref="RuntimeFitOptions.KeepNonPhysicalFit"/>) with its <see cref="RuntimeModel.Warnings"/>.
    /// </param>
    /// <param name="logger">Receives the fitter's warnings.</param>
    /// <exception cref="ArgumentException">No successful samples, or too few output lengths per prompt size to fit.</exception>
    public static DenoisedRuntimeReport Analyze(IEnumerable<ApiSampleRecord> records, RuntimeFitOptions? fitOptions = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(records);
        var all = records.ToArray();
        var succeeded = all.Where(r => r.Status == ApiSampleStatus.Succeeded && r.ToProfilingSample() is not null).ToArray();
        if (succeeded.Length == 0)
        {
            throw new ArgumentException($"The {all.Length} records hold no successful sample; profile first (or check the journal's failures).", nameof(records));
        }

        var unloaded = succeeded.Min(r => r.Concurrency);
        var used = succeeded.Where(r => r.Concurrency == unloaded).ToArray();
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
            MismatchedSamples = succeeded.Count(r => r.CountMismatch),
            FailedRequests = all.Count(r => r.Status == ApiSampleStatus.Failed),
            MedianTimeToFirstTokenSeconds = Median(streamed.Where(r => r.TimeToFirstTokenSeconds is not null).Select(r => r.TimeToFirstTokenSeconds!.Value)),
            MedianInterTokenGapSeconds = Median(streamed.SelectMany(r => r.InterTokenGapsSeconds ?? Array.Empty<double>())),
        };
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
