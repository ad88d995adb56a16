using LlmEff.Profiling.Api;
using ScottPlot;

namespace LlmEff.Cli.Plotting;

/// <summary>A load study drawn against its load: TTFT, TPOT and end-to-end latency at p50/p90/p99, and throughput with goodput.</summary>
internal static class LoadStudyFigure
{
    /// <summary>Four panels, one figure row per pair: latencies with their percentiles, then throughput and goodput.</summary>
    public static IReadOnlyList<Plot> Panels(IReadOnlyList<LoadLevelSummary> levels, string title)
    {
        var xLabel = levels[0].Mode == LoadStudyMode.Concurrency ? "concurrency (requests in flight)" : "request rate (requests/s)";
        var xs = levels.Select(l => l.Load).ToArray();
        return
        [
            Latency(xs, levels.Select(l => l.TimeToFirstToken).ToArray(), $"{title}: time to first token", xLabel, "TTFT (s)"),
            Latency(xs, levels.Select(l => l.TimePerOutputToken).ToArray(), "time per output token", xLabel, "TPOT (s)"),
            Latency(xs, levels.Select(l => l.EndToEnd).ToArray(), "end-to-end latency", xLabel, "latency (s)"),
            Throughput(xs, levels, xLabel),
        ];
    }

    private static Plot Latency(double[] xs, LatencyPercentiles?[] values, string title, string xLabel, string yLabel)
    {
        var plot = new Plot();
        var palette = new ScottPlot.Palettes.Category10();
        var measured = Enumerable.Range(0, xs.Length).Where(i => values[i] is not null).ToArray();
        var series = new (string Name, Func<LatencyPercentiles, double> Value)[] { ("p50", p => p.P50Seconds), ("p90", p => p.P90Seconds), ("p99", p => p.P99Seconds) };
        for (var s = 0; s < series.Length && measured.Length > 0; s++)
        {
            var line = plot.Add.Scatter(measured.Select(i => xs[i]).ToArray(), measured.Select(i => series[s].Value(values[i]!)).ToArray());
            line.Color = palette.GetColor(s);
            line.LegendText = series[s].Name;
        }

        if (measured.Length == 0)
        {
            plot.Add.Text("not measured (stream the answers)", xs.Min(), 0);
        }

        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        plot.ShowLegend(Alignment.UpperLeft);
        return plot;
    }

    private static Plot Throughput(double[] xs, IReadOnlyList<LoadLevelSummary> levels, string xLabel)
    {
        var plot = new Plot();
        var tokens = plot.Add.Scatter(xs, levels.Select(l => l.OutputTokensPerSecond).ToArray());
        tokens.LegendText = "output tokens/s";
        var requests = plot.Add.Scatter(xs, levels.Select(l => l.RequestsPerSecond).ToArray());
        requests.LegendText = "requests/s";
        requests.Axes.YAxis = plot.Axes.Right;
        var goodput = plot.Add.Scatter(xs, levels.Select(l => l.GoodputRequestsPerSecond).ToArray());
        goodput.LegendText = "goodput requests/s";
        goodput.LinePattern = LinePattern.Dashed;
        goodput.Axes.YAxis = plot.Axes.Right;
        plot.Title("throughput and goodput");
        plot.XLabel(xLabel);
        plot.YLabel("output tokens/s");
        plot.Axes.Right.Label.Text = "requests/s";
        plot.ShowLegend(Alignment.UpperLeft);
        return plot;
    }
}
