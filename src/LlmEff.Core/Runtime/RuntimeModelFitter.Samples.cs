using System.Globalization;

namespace LlmEff.Core;

// The fit's input: samples checked (one clear error per bad row), trials aggregated per configuration, and the
// configurations grouped by prompt size for the per-prompt regressions.
internal static partial class RuntimeModelFitter
{
    internal static List<Point> Validate(IEnumerable<ProfilingSample> samples)
    {
        var list = new List<Point>(samples is ICollection<ProfilingSample> c ? c.Count : 16);
        var index = 0;
        int? batchSize = null;
        foreach (var s in samples)
        {
            if (s is null)
            {
                throw new ArgumentException($"samples[{index}] is null; remove null entries.", nameof(samples));
            }

            // A batched sample's runtime is its whole batch's: pooled with another batch size's as if they were trials, the
            // two would be averaged into a model of neither.
            var b = s.BatchSize ?? 1;
            if (batchSize is { } first && b != first)
            {
                throw new ArgumentException(
                    string.Create(CultureInfo.InvariantCulture, $"samples[{index}] (p = {s.PromptTokens}, o = {s.OutputTokens}) is of batch size {b}, the samples before it of {first}; one runtime model describes one batch size: fit batched samples with BatchedRuntimeModel.Fit, or keep one batch size."),
                    nameof(samples));
            }

            batchSize = b;

            if (s.PromptTokens < 0)
            {
                throw new ArgumentException($"samples[{index}] has PromptTokens = {s.PromptTokens}; prompt sizes are token counts, 0 or more.", nameof(samples));
            }

            if (s.OutputTokens < 1)
            {
                throw new ArgumentException($"samples[{index}] has OutputTokens = {s.OutputTokens}; every query generates at least 1 token, so measure o >= 1.", nameof(samples));
            }

            if (!double.IsFinite(s.RuntimeSeconds) || s.RuntimeSeconds <= 0)
            {
                throw new ArgumentException(
                    string.Create(CultureInfo.InvariantCulture, $"samples[{index}] (p = {s.PromptTokens}, o = {s.OutputTokens}) has RuntimeSeconds = {s.RuntimeSeconds}; runtimes must be finite and positive: drop failed or unmeasured queries before fitting."),
                    nameof(samples));
            }

            // Beyond this the least-squares sums overflow, and no single query runs for decades: it is another unit or column.
            if (s.RuntimeSeconds > RuntimeModelPhysics.MaximumSampleSeconds)
            {
                throw new ArgumentException(
                    string.Create(CultureInfo.InvariantCulture, $"samples[{index}] (p = {s.PromptTokens}, o = {s.OutputTokens}) has RuntimeSeconds = {s.RuntimeSeconds:G4}, more than {RuntimeModelPhysics.MaximumSampleSeconds:G1} s (about 32 years) for one query; the value is in another unit or from another column: give runtimes in seconds."),
                    nameof(samples));
            }

            list.Add(new Point(s.PromptTokens, s.OutputTokens, s.RuntimeSeconds));
            index++;
        }

        if (list.Count == 0)
        {
            throw new ArgumentException("No samples to fit; profile each prompt size at two or more output lengths (e.g. the paper's P = {1, 256, 512, 1024, 1536} with o from 1 to 64).", nameof(samples));
        }

        return list;
    }

    internal static Point[] Aggregate(List<Point> points, TrialAggregation aggregation)
    {
        points.Sort(static (a, b) => a.PromptTokens != b.PromptTokens
            ? a.PromptTokens.CompareTo(b.PromptTokens)
            : a.OutputTokens != b.OutputTokens ? a.OutputTokens.CompareTo(b.OutputTokens) : a.Seconds.CompareTo(b.Seconds));
        if (aggregation == TrialAggregation.All)
        {
            return points.ToArray();
        }

        var result = new List<Point>(points.Count);
        var start = 0;
        while (start < points.Count)
        {
            var end = start + 1;
            while (end < points.Count && points[end].PromptTokens == points[start].PromptTokens && points[end].OutputTokens == points[start].OutputTokens)
            {
                end++;
            }

            var n = end - start;
            double value;
            switch (aggregation)
            {
                case TrialAggregation.Minimum:
                    value = points[start].Seconds; // sorted ascending within (p, o)
                    break;
                case TrialAggregation.Median:
                    value = Percentiles.OfSorted(points.GetRange(start, n).ConvertAll(static q => q.Seconds), 50);
                    break;
                default:
                    double sum = 0;
                    for (var i = start; i < end; i++)
                    {
                        sum += points[i].Seconds;
                    }

                    value = sum / n;
                    break;
            }

            result.Add(points[start] with { Seconds = value });
            start = end;
        }

        return result.ToArray();
    }

    internal static List<Group> GroupByPrompt(Point[] points, RuntimeFitOptions options)
    {
        var groups = new List<Group>();
        var lacking = new List<string>();
        var start = 0;
        while (start < points.Length)
        {
            var end = start + 1;
            var distinct = 1;
            while (end < points.Length && points[end].PromptTokens == points[start].PromptTokens)
            {
                if (points[end].OutputTokens != points[end - 1].OutputTokens)
                {
                    distinct++;
                }

                end++;
            }

            if (distinct < options.MinimumDistinctOutputLengths && !options.AllowSingleOutputLength)
            {
                lacking.Add($"p = {points[start].PromptTokens} ({distinct} distinct)");
            }

            groups.Add(new Group(start, end, distinct));
            start = end;
        }

        if (lacking.Count > 0)
        {
            throw new ArgumentException(
                $"Each prompt size needs at least {options.MinimumDistinctOutputLengths} distinct output lengths to fit a line, but {string.Join(", ", lacking)} fall short; profile more output lengths there (e.g. o = 1, 16, 64), drop those prompt sizes, or set AllowSingleOutputLength.",
                "samples");
        }

        return groups;
    }
}
