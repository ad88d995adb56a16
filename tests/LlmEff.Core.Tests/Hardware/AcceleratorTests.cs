using LlmEff.Core.Hardware;

namespace LlmEff.Core.Tests.Hardware;

public class AcceleratorTests
{
    [Fact]
    public void BuiltIns_HaveDatasheetFiguresAndDatedPrices()
    {
        // A100-SXM4-80GB datasheet: 312 TFLOP/s dense fp16, 2,039 GB/s, 400 W; nvidia-smi: 81,920 MiB.
        var a100 = Accelerators.A100_80GB;
        Assert.Equal(81920L * 1024 * 1024, a100.MemoryBytes);
        Assert.Equal(312e12 / 2039e9, a100.RidgeFlopsPerByte, 1e-9);

        // AWS p4de.24xlarge $40.9657/h for 8 GPUs → $5.1207 per GPU-hour → $0.0014224 per GPU-second.
        Assert.Equal(40.9657 / 8 / 3600, a100.PricePerSecondUsd, 1e-12);
        Assert.All(Accelerators.All, a =>
        {
            a.Validate();
            Assert.False(string.IsNullOrWhiteSpace(a.PriceSource));
            Assert.NotNull(a.PriceDate);
        });
        Assert.Contains(Accelerators.All, a => a.Vendor != "NVIDIA");
        Assert.Equal(6, Accelerators.All.Count);
    }

    [Fact]
    public void Get_IsCaseInsensitive_AndListsBuiltInsWhenUnknown()
    {
        Assert.Same(Accelerators.H100_SXM, Accelerators.Get("h100-sxm"));
        var e = Assert.Throws<KeyNotFoundException>(() => Accelerators.Get("B200"));
        Assert.Contains("A100-80GB", e.Message);
    }

    [Fact]
    public void UserDefined_ValidatesFields()
    {
        var mine = new Accelerator("L4", 24L << 30, 121e12, 300e9, 72, 0.8) { PriceSource = "my invoice", PriceDate = new DateOnly(2026, 1, 1) };
        Assert.Same(mine, mine.Validate());
        var repriced = Accelerators.A100_80GB with { HourlyPriceUsd = 1.5 };
        Assert.Equal(1.5 / 3600, repriced.PricePerSecondUsd, 1e-15);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => (mine with { MemoryBandwidthBytesPerSecond = 0 }).Validate());
        Assert.Equal("MemoryBandwidthBytesPerSecond", e.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => (mine with { HourlyPriceUsd = -1 }).Validate());
    }
}
