using System.Globalization;
using LlmEff.Core;

namespace LlmEff.Profiling.Api;

/// <summary>Turns a reader's requests into samples and counted exclusions, the same way for every tool.</summary>
internal sealed class ImportCollector(BenchmarkLogFormat format, string sourceName, BenchmarkImportOptions options)
{
    private readonly List<ImportedRequest> _requests = [];
    private readonly List<string> _notes = [];

    public BenchmarkLogFormat Format => format;

    public string SourceName => sourceName;

    public BenchmarkImportOptions Options => options;

    public void Add(ImportedRequest request) => _requests.Add(request);

    public void Note(string note)
    {
        if (!_notes.Contains(note))
        {
            _notes.Add(note);
        }
    }

    public ImportedBenchmarkLog Build(string formatVersion)
    {
        var inFlight = InFlightAtSend();
        var samples = new List<ProfilingSample>();
        var exclusions = new List<BenchmarkLogExclusion>();
        var keptMismatched = 0;
        var label = $"{BenchmarkLogImport.FormatName(format)}:{Path.GetFileName(sourceName)}";
        for (var i = 0; i < _requests.Count; i++)
        {
            var r = _requests[i];
            var exclusion = Check(i, r);
            if (exclusion is not null && exclusion.Reason == BenchmarkExclusionReason.LengthMismatch && options.FitMismatchedOnReportedLength)
            {
                keptMismatched++;
                exclusion = null;
            }

            if (exclusion is not null)
            {
                exclusions.Add(exclusion);
                continue;
            }

            var p = r.PromptTokens!.Value;
            var o = r.OutputTokens!.Value;
            var t = r.RuntimeSeconds!.Value;
            var ttft = r.TimeToFirstTokenSeconds is { } f && double.IsFinite(f) && f >= 0 && f <= t ? f : (double?)null;
            samples.Add(new ProfilingSample(p, o, t)
            {
                Source = label,
                Concurrency = inFlight[i] ?? r.Concurrency,
                TimeToFirstTokenSeconds = ttft,
                MeanInterTokenSeconds = ttft is { } first && o > 1 ? (t - first) / (o - 1) : null,
                ReasoningTokens = r.ReasoningTokens,
            });
        }

        return new ImportedBenchmarkLog(format, formatVersion, sourceName, _requests.Count, samples, exclusions)
        {
            KeptMismatchedCount = keptMismatched,
            Notes = _notes.ToArray(),
        };
    }

    private static BenchmarkLogExclusion? Check(int index, ImportedRequest r)
    {
        var inv = CultureInfo.InvariantCulture;
        if (r.Warmup is not null)
        {
            return new(index, BenchmarkExclusionReason.Warmup, r.Warmup);
        }

        if (r.Failure is not null)
        {
            return new(index, BenchmarkExclusionReason.Failed, r.Failure);
        }

        if (r.CutShort is not null)
        {
            return new(index, BenchmarkExclusionReason.CutShort, r.CutShort);
        }

        if (r.PromptTokens is not > 0 || r.OutputTokens is not > 0)
        {
            var detail = r.MissingTokensDetail
                ?? string.Create(inv, $"prompt tokens {Show(r.PromptTokens)}, output tokens {Show(r.OutputTokens)}; both must be reported and positive");
            return new(index, BenchmarkExclusionReason.MissingTokenCounts, detail);
        }

        if (r.RuntimeSeconds is not { } t || !double.IsFinite(t) || t <= 0)
        {
            return new(index, BenchmarkExclusionReason.MissingTiming, string.Create(inv, $"runtime {Show(r.RuntimeSeconds)} s; it must be finite and positive"));
        }

        if (r.RequestedOutputTokens is { } requested && requested > 0 && requested != r.OutputTokens)
        {
            return new(index, BenchmarkExclusionReason.LengthMismatch, string.Create(inv, $"asked for {requested} output tokens, got {r.OutputTokens}"));
        }

        return null;
    }

    private static string Show<T>(T? value)
        where T : struct, IFormattable
        => value is { } v ? v.ToString(null, CultureInfo.InvariantCulture) : "missing";

    /// <summary>
    /// Requests in flight when each request was sent (itself included), from the send times and runtimes the log holds:
    /// a request sent at <c>s</c> finds every other one with <c>start ≤ s &lt; start + runtime</c> still running. Null
    /// for a request without both.
    /// </summary>
    private int?[] InFlightAtSend()
    {
        var result = new int?[_requests.Count];
        var spans = _requests
            .Select(r => r.StartSeconds is { } s && double.IsFinite(s) && r.RuntimeSeconds is { } t && double.IsFinite(t) && t > 0 ? (Start: s, End: s + t) : ((double Start, double End)?)null)
            .ToArray();
        var starts = spans.Where(s => s is not null).Select(s => s!.Value.Start).Order().ToArray();
        var ends = spans.Where(s => s is not null).Select(s => s!.Value.End).Order().ToArray();
        if (starts.Length == 0)
        {
            return result;
        }

        for (var i = 0; i < spans.Length; i++)
        {
            if (spans[i] is { } span)
            {
                // Started at or before s, minus those already ended at s (half-open intervals).
                result[i] = UpperBound(starts, span.Start) - UpperBound(ends, span.Start);
            }
        }

        return result;
    }

    /// <summary>How many values of the sorted <paramref name="sorted"/> are at most <paramref name="value"/>.</summary>
    private static int UpperBound(double[] sorted, double value)
    {
        int lo = 0, hi = sorted.Length;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (sorted[mid] <= value)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }
}
