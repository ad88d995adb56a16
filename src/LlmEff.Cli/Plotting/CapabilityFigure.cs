using LlmEff.Core.Metrics;
using ScottPlot;

namespace LlmEff.Cli.Plotting;

/// <summary>Figure 9: accuracy against an efficiency metric per scenario; frontier points as squares joined by a dotted line, the rest as circles.</summary>
internal static class CapabilityFigure
{
    public static Plot Panel(ScenarioFrontier scenario, string metricLabel, IReadOnlyDictionary<string, Color> colors, bool legend)
    {
        var plot = new Plot();
        for (var i = 0; i < scenario.Points.Count; i++)
        {
            var p = scenario.Points[i];
            var marker = plot.Add.Marker(p.EfficiencyMetric, p.Capability, scenario.OnFrontier[i] ? MarkerShape.FilledSquare : MarkerShape.FilledCircle, 9, colors[p.Label]);
            marker.LegendText = legend ? p.Label : string.Empty;
        }

        var frontier = Enumerable.Range(0, scenario.Points.Count).Where(i => scenario.OnFrontier[i]).Select(i => scenario.Points[i]).OrderBy(p => p.EfficiencyMetric).ToArray();
        if (frontier.Length > 1)
        {
            var line = plot.Add.ScatterLine(frontier.Select(p => p.EfficiencyMetric).ToArray(), frontier.Select(p => p.Capability).ToArray());
            line.Color = Colors.Black;
            line.LinePattern = LinePattern.Dotted;
            line.LegendText = legend ? "Pareto frontier" : string.Empty;
        }

        plot.Title(scenario.Scenario);
        plot.XLabel(metricLabel);
        plot.YLabel("accuracy");
        if (legend)
        {
            plot.ShowLegend(Alignment.LowerRight);
        }

        return plot;
    }

    /// <summary>One color per model, stable across panels.</summary>
    public static IReadOnlyDictionary<string, Color> ModelColors(IEnumerable<string> models)
    {
        var palette = new ScottPlot.Palettes.Category20();
        return models.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).Select((m, i) => (m, palette.GetColor(i))).ToDictionary(x => x.m, x => x.Item2, StringComparer.Ordinal);
    }
}
