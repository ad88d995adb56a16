using LlmEff.Core.Evaluation;
using LlmEff.Tests.Shared;

namespace LlmEff.Core.Tests.Evaluation;

public class NoisyGridTests
{
    private static ProfilingGrid Smooth()
        => new("g", from p in new[] { 1, 64, 128, 256, 512, 768, 1024 } from o in new[] { 1, 2, 8, 32 } select new ProfilingSample(p, o, 0.02 + (0.0001 * p) + (0.02 * (o - 1))));

    [Fact]
    public void Create_IsDeterministicUnderASeed_AndDiffersAcrossSeeds()
    {
        var options = new NoisyGridOptions { NoiseScale = 6, PromptLineResidual = 0.02, Seed = 7 };
        var a = NoisyGrid.Create(Smooth(), (_, _) => 0.001, options).All().ToList();
        var b = NoisyGrid.Create(Smooth(), (_, _) => 0.001, options).All().ToList();
        var c = NoisyGrid.Create(Smooth(), (_, _) => 0.001, options with { Seed = 8 }).All().ToList();

        Assert.Equal(a.Select(s => s.RuntimeSeconds), b.Select(s => s.RuntimeSeconds));
        Assert.NotEqual(a.Select(s => s.RuntimeSeconds), c.Select(s => s.RuntimeSeconds));
    }

    [Fact]
    public void Create_AddsNoiseOfTheScaledStandardDeviation()
    {
        // sqrt(k² − 1)·σ is added: with σ = 1 ms and k = 6 the added spread is about 5.9 ms.
        var grid = Smooth();
        var noisy = NoisyGrid.Create(grid, (_, _) => 0.001, new NoisyGridOptions { NoiseScale = 6, MinimumStdDevSeconds = 0, Seed = 1 });
        var differences = noisy.All().Zip(grid.All(), (n, g) => n.RuntimeSeconds - g.RuntimeSeconds).ToArray();
        var rms = Math.Sqrt(differences.Average(d => d * d));
        Assert.InRange(rms, 0.004, 0.008);

        var unchanged = NoisyGrid.Create(grid, (_, _) => 0.001, new NoisyGridOptions { NoiseScale = 1, Seed = 1 });
        Assert.Equal(grid.All().Select(s => s.RuntimeSeconds), unchanged.All().Select(s => s.RuntimeSeconds));
    }

    [Fact]
    public void Create_LineOffsetsScaleWholePromptLines()
    {
        var grid = Smooth();
        var noisy = NoisyGrid.Create(grid, (_, _) => 0, new NoisyGridOptions { NoiseScale = 1, MinimumStdDevSeconds = 0, PromptLineResidual = 0.05, Seed = 3 });
        foreach (var p in grid.PromptTokens)
        {
            var ratios = grid.OutputTokens.Select(o => noisy.Measure(p, o).RuntimeSeconds / grid.Measure(p, o).RuntimeSeconds).ToArray();
            Assert.All(ratios, r => Assert.Equal(ratios[0], r, 12));
        }
    }

    [Fact]
    public void Options_OutOfRange_NameTheOption()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => NoisyGrid.Create(Smooth(), (_, _) => 0.001, new NoisyGridOptions { NoiseScale = 0.5 }));
        Assert.Equal("NoiseScale", e.ParamName);
        e = Assert.Throws<ArgumentOutOfRangeException>(() => NoisyGrid.Create(Smooth(), (_, _) => 0.001, new NoisyGridOptions { PromptLineResidual = -0.1 }));
        Assert.Equal("PromptLineResidual", e.ParamName);
    }

    [Fact]
    public void FromCsv_ReadsTheMegatronStandardDeviations()
    {
        var path = SharedData.Require("megatron/a100-gptj_6b.csv");
        var measured = NoisyGrid.FromCsv(path, new NoisyGridOptions { NoiseScale = 1, MinimumStdDevSeconds = 0 });
        var noisy = NoisyGrid.FromCsv(path, new NoisyGridOptions { NoiseScale = 3, PromptLineResidual = 0.01, Seed = 1 });
        Assert.Equal(270, noisy.Count);
        Assert.NotEqual(measured.All().Select(s => s.RuntimeSeconds), noisy.All().Select(s => s.RuntimeSeconds));

        // The noisier grid's own floor (best in-sample error of the form) rises above the measured one's.
        Assert.True(AccuracyTarget.For(noisy).Floor.P90 > AccuracyTarget.For(measured).Floor.P90);
    }

    [Fact]
    public void FromCsv_WithoutStandardDeviations_SaysWhatItNeeds()
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllLines(path, ["prompt_tokens,output_tokens,runtime_seconds", "1,1,0.1", "1,2,0.2"]);
            var e = Assert.Throws<InvalidDataException>(() => NoisyGrid.FromCsv(path, new NoisyGridOptions()));
            Assert.Contains("stddev_seconds", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
