using LlmEff.Core.Evaluation;

namespace LlmEff.Core.Tests.Evaluation;

public class ProfilingGridTests
{
    private static ProfilingGrid Grid(Func<int, int, double> runtime)
        => new("g", from p in new[] { 1, 64, 128, 256, 512, 768, 1024 }
                    from o in new[] { 1, 2, 8, 32 }
                    select new ProfilingSample(p, o, runtime(p, o)));

    [Fact]
    public void MeasurementResolution_IsTheClockStepOfTheRuntimes()
    {
        Assert.Equal(0.001, Grid((p, o) => Math.Round(0.0213 + (0.000107 * p) + (0.0201 * (o - 1)), 3)).MeasurementResolutionSeconds, 12);
        Assert.Equal(0.0001, Grid((p, o) => Math.Round(0.0213 + (0.000107 * p) + (0.0201 * (o - 1)), 4)).MeasurementResolutionSeconds, 12);
        Assert.Equal(0, Grid((p, o) => 0.0213 + (0.000107 * p) + (0.0201 * (o - 1)) + (1e-7 * Math.Sqrt((p * o) + 2))).MeasurementResolutionSeconds);
    }
}
