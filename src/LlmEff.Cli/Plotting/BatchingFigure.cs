using System.Globalization;
using LlmEff.Core.Batching;
using ScottPlot;

namespace LlmEff.Cli.Plotting;

/// <summary>Cost per query against latency for static batches of b = 1 up to the largest considered: where batching stops paying.</summary>
internal static class BatchingFigure
{
    public static Plot CostVersusLatency(BatchChoice choice, string title)
    {
        var plot = new Plot();
        var c = choice.Candidates;
        var line = plot.Add.ScatterLine(c.Select(x => x.LatencySeconds).ToArray(), c.Select(x => x.CostPerQueryUsd).ToArray());
        line.LegendText = "b = 1 .. " + c[^1].BatchSize.ToString(CultureInfo.InvariantCulture);
        // Label the powers of two (and the last) so the batch size can be read off the curve.
        foreach (var x in c.Where(x => (x.BatchSize & (x.BatchSize - 1)) == 0 || x.BatchSize == c[^1].BatchSize))
        {
            var marker = plot.Add.Marker(x.LatencySeconds, x.CostPerQueryUsd);
            marker.Size = 6;
            var text = plot.Add.Text("b=" + x.BatchSize.ToString(CultureInfo.InvariantCulture), x.LatencySeconds, x.CostPerQueryUsd);
            text.LabelFontSize = 11;
        }

        if (choice.Best is { } best)
        {
            var star = plot.Add.Marker(best.LatencySeconds, best.CostPerQueryUsd, MarkerShape.FilledDiamond, 12);
            star.LegendText = "cheapest under the bound: b = " + best.BatchSize.ToString(CultureInfo.InvariantCulture);
        }

        plot.Title(title);
        plot.XLabel("latency per query: the batch's runtime (s)");
        plot.YLabel("idealized cost per query (USD)");
        plot.ShowLegend(Alignment.UpperRight);
        return plot;
    }
}
