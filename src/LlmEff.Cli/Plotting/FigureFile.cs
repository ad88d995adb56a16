using LlmEff.Cli.Commands;
using ScottPlot;
using SkiaSharp;

namespace LlmEff.Cli.Plotting;

/// <summary>
/// Saves one or more ScottPlot plots (a grid when several) as PNG or SVG, chosen by the file extension. SVG draws every
/// line solid (Skia's SVG canvas cannot dash); use PNG where the dashed fitted lines and dotted diagonals matter.
/// </summary>
internal static class FigureFile
{
    public static void Save(IReadOnlyList<Plot> plots, int columns, string path, int panelWidth = 520, int panelHeight = 400)
    {
        var extension = Path.GetExtension(path).ToLowerInvariant();
        if (extension is not (".png" or ".svg"))
        {
            throw new ArgumentException($"output '{path}' must end in .png or .svg (the format is chosen by extension).");
        }

        CliInputs.CheckOutputFile(new FileInfo(path), "output", ".png or .svg file");

        var rows = (plots.Count + columns - 1) / columns;
        var width = panelWidth * Math.Min(columns, plots.Count);
        var height = panelHeight * rows;
        var figure = new Multiplot(plots[0]);
        foreach (var p in plots.Skip(1))
        {
            figure.Subplots.Add(p);
        }

        figure.Layout = new ScottPlot.MultiplotLayouts.Grid(rows, Math.Min(columns, plots.Count));
        var rectangle = new PixelRect(0, width, height, 0);
        using var stream = File.Create(path);
        if (extension == ".png")
        {
            using var surface = SKSurface.Create(new SKImageInfo(width, height));
            surface.Canvas.Clear(SKColors.White);
            figure.Render(surface.Canvas, rectangle);
            using var image = surface.Snapshot();
            using var data = image.Encode(SKEncodedImageFormat.Png, 100);
            data.SaveTo(stream);
        }
        else
        {
            // Skia's SVG canvas has no path effects: a dashed or dotted line would come out solid anyway, with a native
            // "Unsupported path effect" line on stderr for every stroke. Solid it is, said in the doc, without the noise.
            foreach (var line in plots.SelectMany(p => p.GetPlottables()).OfType<IHasLine>())
            {
                line.LinePattern = LinePattern.Solid;
            }

            using var canvas = SKSvgCanvas.Create(new SKRect(0, 0, width, height), stream);
            canvas.Clear(SKColors.White);
            figure.Render(canvas, rectangle);
        }
    }
}
