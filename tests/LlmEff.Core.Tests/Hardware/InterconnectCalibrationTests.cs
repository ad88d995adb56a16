using LlmEff.Core.Hardware;

namespace LlmEff.Core.Tests.Hardware;

public sealed class InterconnectCalibrationTests
{
    // nccl-tests' sweep: 8 KB to 256 MB in factors of 4.
    private static readonly double[] Sizes = [8192, 32768, 131072, 524288, 2097152, 8388608, 33554432, 134217728, 268435456];

    [Fact]
    public void Samples_from_the_model_give_back_its_latency_and_bandwidth()
    {
        // Exact α–β times at 2 and 4 ranks from the built-in NVLink 4 link (13 µs, 360 GB/s).
        var samples = Sizes.SelectMany(s => new[] { 2, 4 }.Select(n => new AllReduceSample(n, s, CommunicationModel.AllReduceSeconds(s, n, Interconnects.NvLink4)))).ToList();

        var fit = InterconnectCalibration.FitAllReduce(samples, "fitted", "synthetic");

        Assert.Equal(13e-6, fit.Interconnect.LatencySeconds, 1e-12);
        Assert.Equal(360e9, fit.Interconnect.BusBandwidthBytesPerSecond, 1e-3);
        Assert.True(fit.MaxAbsoluteRelativeError < 1e-9);
        Assert.Equal(samples.Count, fit.RelativeResiduals.Count);
        Assert.Equal("synthetic", fit.Interconnect.Source);
    }

    [Fact]
    public void Relative_least_squares_keeps_small_messages_close_despite_noise_on_large_ones()
    {
        // α = 20 µs, B = 300 GB/s at 2 ranks, with the times alternately 3% high and low.
        var samples = Sizes.Select((s, i) => new AllReduceSample(2, s, (20e-6 + (s / 300e9)) * (i % 2 == 0 ? 1.03 : 0.97))).ToList();

        var fit = InterconnectCalibration.FitAllReduce(samples, "fitted", "synthetic");

        Assert.InRange(fit.Interconnect.LatencySeconds, 19e-6, 21e-6);
        Assert.InRange(fit.Interconnect.BusBandwidthBytesPerSecond, 290e9, 310e9);
        Assert.InRange(fit.MaxAbsoluteRelativeError, 0.02, 0.045);
    }

    [Fact]
    public void A_negative_latency_is_refitted_as_zero()
    {
        // Pure bandwidth with the smallest message slightly fast: an unconstrained fit would give α < 0.
        var samples = Sizes.Select(s => new AllReduceSample(2, s, s / 100e9 * (s < 1e4 ? 0.9 : 1.0))).ToList();

        var fit = InterconnectCalibration.FitAllReduce(samples, "fitted", "synthetic");

        Assert.Equal(0, fit.Interconnect.LatencySeconds);
        Assert.InRange(fit.Interconnect.BusBandwidthBytesPerSecond, 99e9, 106e9);
    }

    [Fact]
    public void Bad_samples_are_refused_with_the_reason()
    {
        var one = Assert.Throws<ArgumentException>(() => InterconnectCalibration.FitAllReduce([new(1, 1e6, 1e-3), new(1, 2e6, 2e-3)], "x", "y"));
        Assert.Contains("2 or more GPUs", one.Message, StringComparison.Ordinal);

        var sameSize = Assert.Throws<ArgumentException>(() => InterconnectCalibration.FitAllReduce([new(2, 1e6, 1e-3), new(2, 1e6, 1.1e-3)], "x", "y"));
        Assert.Contains("at least two", sameSize.Message, StringComparison.Ordinal);

        var nan = Assert.Throws<ArgumentException>(() => InterconnectCalibration.FitAllReduce([new(2, 1e6, double.NaN), new(2, 2e6, 2e-3)], "x", "y"));
        Assert.Contains("finite and positive", nan.Message, StringComparison.Ordinal);

        var flat = Assert.Throws<ArgumentException>(() => InterconnectCalibration.FitAllReduce([new(2, 1e6, 2e-3), new(2, 2e6, 1e-3)], "x", "y"));
        Assert.Contains("do not grow", flat.Message, StringComparison.Ordinal);
    }
}
