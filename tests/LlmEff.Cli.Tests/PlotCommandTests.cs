using LlmEff.Tests.Shared;
using System.Globalization;
using System.Text;
using System.Xml.Linq;
using static LlmEff.Cli.Tests.CliRunner;

namespace LlmEff.Cli.Tests;

public class PlotCommandTests
{
    private static readonly byte[] PngSignature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    // Synthetic samples from t = PE(p) + (o-1)·g with PE(128) = 0.05 s, PE(512) = 0.1 s, g = 0.02 s.
    private static string Samples()
    {
        var sb = new StringBuilder("prompt_tokens,output_tokens,runtime_seconds\n");
        foreach (var (p, pe) in new[] { (128, 0.05), (512, 0.1) })
        {
            foreach (var o in new[] { 1, 8, 32 })
            {
                sb.AppendLine(string.Create(CultureInfo.InvariantCulture, $"{p},{o},{pe + ((o - 1) * 0.02)}"));
            }
        }

        return sb.ToString();
    }

    private static string SvgText(string path)
        => string.Join("\n", XDocument.Load(path).Descendants().Where(e => e.Name.LocalName == "text").Select(e => e.Value.Trim()));

    [Fact]
    public void PlotRuntime_Png_HasPngSignature()
    {
        using var dir = new TempDir();
        var png = dir.File("f3.png");
        var (code, output, err) = Run("plot", "runtime", dir.File("s.csv", Samples()), "-o", png);

        Assert.True(code == 0, err);
        Assert.Contains(png, output, StringComparison.Ordinal);
        Assert.Equal(PngSignature, File.ReadAllBytes(png).Take(8).ToArray());
    }

    [Fact]
    public void PlotRuntime_Svg_IsXmlWithOneSeriesPerPromptSizeAndTheFit()
    {
        using var dir = new TempDir();
        var svg = dir.File("f3.svg");
        Assert.Equal(0, Run("plot", "runtime", dir.File("s.csv", Samples()), "-o", svg).Code);

        var text = SvgText(svg);
        Assert.Contains("p = 128", text, StringComparison.Ordinal);
        Assert.Contains("p = 512", text, StringComparison.Ordinal);
        Assert.Contains("fitted PE(p) + (o-1)·g", text, StringComparison.Ordinal);
        Assert.Contains("output tokens o", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("prompt-encoding", "PE(p), piecewise linear")]
    [InlineData("predicted", "y = x")]
    public void PlotOtherRuntimeFigures_SvgHoldTheirSeries(string figure, string series)
    {
        using var dir = new TempDir();
        var svg = dir.File("f.svg");
        var (code, _, err) = Run("plot", figure, dir.File("s.csv", Samples()), "-o", svg);

        Assert.True(code == 0, err);
        Assert.Contains(series, SvgText(svg), StringComparison.Ordinal);
    }

    [Fact]
    public void PlotPareto_GridOfMetricsByScenarios_WithFrontier()
    {
        using var dir = new TempDir();
        var csv = dir.File("acc.csv", "model,scenario,accuracy,raw,idealized\nA,s1,0.5,1,0.5\nB,s1,0.4,2,0.2\nC,s1,0.9,4,1\nA,s2,0.7,1,0.5\nB,s2,0.8,3,0.3\n");
        var svg = dir.File("f9.svg");
        var (code, _, err) = Run("plot", "pareto", "-a", csv, "--metric", "raw", "idealized", "-o", svg);

        Assert.True(code == 0, err);
        var text = SvgText(svg);
        Assert.Contains("Pareto frontier", text, StringComparison.Ordinal);
        Assert.Contains("raw runtime (s)", text, StringComparison.Ordinal);
        Assert.Contains("idealized runtime (s)", text, StringComparison.Ordinal);
        Assert.Contains("s1", text.Split('\n'));
        Assert.Contains("s2", text.Split('\n'));
        Assert.Contains("C", text.Split('\n'));
    }

    [Fact]
    public void PlotPareto_RuntimeAndDollars_NeedsNoRanking()
    {
        // Costs below f2's 1 ms log unit once failed with an error about runtimes; a figure ranks nothing.
        using var dir = new TempDir();
        var csv = dir.File("acc.csv", "model,scenario,accuracy,idealized_runtime_s,cost_usd\nA,s1,0.5,1,0.0001\nB,s1,0.4,2,0.0002\nC,s1,0.9,4,0.0004\n");
        var svg = dir.File("f.svg");
        var (code, _, err) = Run("plot", "pareto", "-a", csv, "--metric", "idealized_runtime_s", "cost_usd", "-o", svg);

        Assert.True(code == 0, err);
        Assert.Contains("cost_usd", SvgText(svg), StringComparison.Ordinal);
    }

    [Fact]
    public void PlotPareto_HelmRunsFigure9_Png()
    {
        var runs = SharedData.Require("helm-runs/inference_runtimes_and_accuracies_all_scenarios.csv");
        using var dir = new TempDir();
        var png = dir.File("f9.png");
        var (code, _, err) = Run("plot", "pareto", "-a", runs, "--metric", "raw", "idealized", "-s", "boolq", "imdb", "-o", png);

        Assert.True(code == 0, err);
        Assert.Equal(PngSignature, File.ReadAllBytes(png).Take(8).ToArray());
    }

    [Fact]
    public void Plot_BadExtension_IsAnError()
    {
        using var dir = new TempDir();
        AssertOneLineError(Run("plot", "runtime", dir.File("s.csv", Samples()), "-o", dir.File("f.jpg")), ".png or .svg");
    }

    [Fact]
    public void Plot_MissingSamples_IsAnError()
        => AssertOneLineError(Run("plot", "runtime", "/nonexistent/s.csv", "-o", "/tmp/x.png"), "/nonexistent/s.csv");

    [Fact]
    public void Plot_MalformedSamples_ReportsTheLine()
    {
        using var dir = new TempDir();
        var csv = dir.File("s.csv", "prompt_tokens,output_tokens,runtime_seconds\n128,1,0.05\n128,x,0.1\n");
        AssertOneLineError(Run("plot", "runtime", csv, "-o", dir.File("f.png")), "line 3");
    }

    [Theory]
    [InlineData("runtime")]
    [InlineData("prompt-encoding")]
    [InlineData("predicted")]
    public void Plot_HeaderOnlySamplesWithAModel_NamesTheFile(string figure)
    {
        // With --model nothing is fitted, so an empty CSV once reached the figure and failed as "Sequence contains no elements".
        using var dir = new TempDir();
        var model = dir.File("m.json", Core.RuntimeModel.Fit(Core.Serialization.ProfilingSampleCsv.Read(new StringReader(Samples()), "s.csv")).ToJson());
        var empty = dir.File("e.csv", "prompt_tokens,output_tokens,runtime_seconds\n");

        var r = Run("plot", figure, empty, "--model", model, "-o", dir.File("f.png"));

        AssertOneLineError(r, "e.csv", "no samples");
        Assert.DoesNotContain("Sequence contains no elements", r.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PlotSvg_DrawsSolidLines_WithoutANativeComplaintPerStroke()
    {
        // Skia's SVG canvas cannot dash: a dashed line once printed "Unsupported path effect in addPaint." to the
        // process's stderr for every stroke (seen only in a child process: the native library writes to fd 2).
        using var dir = new TempDir();
        var svg = dir.File("f3.svg");
        using var child = System.Diagnostics.Process.Start(CliRunner.ChildProcess("plot", "runtime", dir.File("s.csv", Samples()), "-o", svg))!;
        var streams = await Task.WhenAll(child.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken), child.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken));
        await child.WaitForExitAsync(TestContext.Current.CancellationToken);

        Assert.True(child.ExitCode == 0, streams[1]);
        Assert.DoesNotContain("path effect", streams[1], StringComparison.Ordinal);
        Assert.Contains("fitted PE(p) + (o-1)·g", SvgText(svg), StringComparison.Ordinal);
    }

    [Fact]
    public void PlotPromptEncoding_WithAModel_TakesTheInterceptsFromTheSamplesNamed()
    {
        // The model was fitted on other samples (PE 0.5 s at both sizes); the figure must show these samples' intercepts.
        var model = Core.RuntimeModel.Create([(128, 0.5), (512, 0.5)], 0.02);
        var samples = Core.Serialization.ProfilingSampleCsv.Read(new StringReader(Samples()), "s.csv");

        var plot = LlmEff.Cli.Plotting.RuntimeFigures.PromptEncoding(samples, model, "s.csv");

        var points = plot.GetPlottables().OfType<ScottPlot.Plottables.Scatter>().First(p => p.LegendText == "per-prompt-size intercept");
        Assert.Equal(new[] { 0.05, 0.1 }, points.Data.GetScatterPoints().Select(c => Math.Round(c.Y, 9)));
    }
}
