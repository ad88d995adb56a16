using LlmEff.Core;
using ScottPlot;

namespace LlmEff.Cli.Plotting;

/// <summary>The paper's runtime-model figures: runtime vs output tokens per prompt size (Figure 3), PE vs prompt size (Figure 4), predicted vs measured (Figure 7).</summary>
internal static class RuntimeFigures
{
    /// <summary>Figure 3: measured runtime against output tokens, one series per prompt size, with the model's fitted line for each.</summary>
    /// <remarks>With more than <paramref name="maximumPromptSizes"/> prompt sizes, that many evenly spread ones are drawn, so the figure stays readable.</remarks>
    public static Plot RuntimeVsOutputTokens(IReadOnlyList<ProfilingSample> samples, RuntimeModel model, string title, int maximumPromptSizes = 6)
    {
        var plot = new Plot();
        var palette = new ScottPlot.Palettes.Category10();
        var sizes = samples.Select(s => s.PromptTokens).Distinct().Order().ToArray();
        var shown = sizes.Length <= maximumPromptSizes
            ? sizes
            : Enumerable.Range(0, maximumPromptSizes).Select(k => sizes[(int)Math.Round(k * (sizes.Length - 1) / (double)(maximumPromptSizes - 1))]).Distinct().ToArray();
        var i = 0;
        foreach (var group in samples.Where(s => shown.Contains(s.PromptTokens)).GroupBy(s => s.PromptTokens).OrderBy(g => g.Key))
        {
            var color = palette.GetColor(i++);
            var points = group.OrderBy(s => s.OutputTokens).ToArray();
            var measured = plot.Add.ScatterPoints(points.Select(s => (double)s.OutputTokens).ToArray(), points.Select(s => s.RuntimeSeconds).ToArray());
            measured.Color = color;
            measured.LegendText = $"p = {group.Key}";
            var outputs = points.Select(s => s.OutputTokens).Distinct().ToArray();
            var fitted = plot.Add.ScatterLine(outputs.Select(o => (double)o).ToArray(), outputs.Select(o => model.Predict(group.Key, o)).ToArray());
            fitted.Color = color;
            fitted.LinePattern = LinePattern.Dashed;
        }

        var legendLine = plot.Add.ScatterLine(Array.Empty<double>(), Array.Empty<double>());
        legendLine.Color = Colors.Gray;
        legendLine.LinePattern = LinePattern.Dashed;
        legendLine.LegendText = "fitted PE(p) + (o-1)·g";
        plot.Title(title);
        plot.XLabel("output tokens o");
        plot.YLabel("runtime (s)");
        plot.ShowLegend(Alignment.LowerRight);
        return plot;
    }

    /// <summary>
    /// Figure 4: each prompt size's intercept in <paramref name="samples"/> (the raw PE estimate: its line through the
    /// output lengths) and the model's PE function. The intercepts are the samples' own, so a model given with --model is
    /// drawn against the data the figure is titled with, not against the samples it was fitted on.
    /// </summary>
    public static Plot PromptEncoding(IReadOnlyList<ProfilingSample> samples, RuntimeModel model, string title)
    {
        var plot = new Plot();
        IReadOnlyList<PromptSizeFit> intercepts;
        try
        {
            intercepts = RuntimeModel.Fit(samples, new RuntimeFitOptions { KeepNonPhysicalFit = true, RSquaredWarningThreshold = 0 }).PromptSizeFits;
        }
        catch (ArgumentException)
        {
            intercepts = []; // too few output lengths per prompt size for a line: the PE function alone
        }

        if (intercepts.Count > 0)
        {
            var fits = intercepts.OrderBy(f => f.PromptTokens).ToArray();
            var points = plot.Add.ScatterPoints(fits.Select(f => (double)f.PromptTokens).ToArray(), fits.Select(f => f.InterceptSeconds).ToArray());
            points.LegendText = "per-prompt-size intercept";
            points.MarkerSize = 8;
        }

        var knots = model.ProfiledPromptTokens;
        var max = Math.Max(knots.Max(), 2);
        var xs = Enumerable.Range(0, 101).Select(k => 1 + ((max - 1) * k / 100.0)).ToArray();
        var line = plot.Add.ScatterLine(xs, xs.Select(x => model.PromptEncodingSeconds((int)Math.Round(x))).ToArray());
        line.LegendText = "PE(p), piecewise linear";
        plot.Title(title);
        plot.XLabel("prompt tokens p");
        plot.YLabel("prompt encoding time (s)");
        plot.ShowLegend(Alignment.UpperLeft);
        return plot;
    }

    /// <summary>Figure 7 style: predicted against measured runtime for every sample, with the y = x line.</summary>
    public static Plot PredictedVsMeasured(IReadOnlyList<ProfilingSample> samples, RuntimeModel model, string title)
    {
        var plot = new Plot();
        var measured = samples.Select(s => s.RuntimeSeconds).ToArray();
        var predicted = samples.Select(s => model.Predict(s.PromptTokens, s.OutputTokens)).ToArray();
        var points = plot.Add.ScatterPoints(measured, predicted);
        points.LegendText = "samples";
        var max = Math.Max(measured.Max(), predicted.Max());
        var diagonal = plot.Add.ScatterLine(new[] { 0.0, max }, new[] { 0.0, max });
        diagonal.LinePattern = LinePattern.Dotted;
        diagonal.Color = Colors.Black;
        diagonal.LegendText = "y = x";
        plot.Title(title);
        plot.XLabel("measured runtime (s)");
        plot.YLabel("predicted runtime (s)");
        plot.ShowLegend(Alignment.UpperLeft);
        return plot;
    }
}
