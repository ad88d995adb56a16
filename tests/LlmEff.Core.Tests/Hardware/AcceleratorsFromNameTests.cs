using LlmEff.Core.Catalog;
using LlmEff.Core.Hardware;
using LlmEff.Core.Reference;

namespace LlmEff.Core.Tests.Hardware;

public class AcceleratorsFromNameTests
{
    [Theory]
    [InlineData("H100-SXM", "H100-SXM")]
    [InlineData("a100-40gb", "A100-40GB")]
    [InlineData("NVIDIA H100 80GB HBM3 (79 GiB, driver 580.159.04, CUDA 13.0)", "H100-SXM")]
    [InlineData("NVIDIA H200", "H200")]
    [InlineData("NVIDIA A100 80GB", "A100-80GB")]
    [InlineData("NVIDIA A100-SXM4-40GB", "A100-40GB")]
    [InlineData("AMD Instinct MI300X", "MI300X")]
    public void FromHardwareName_KnownHardware(string hardware, string expected)
        => Assert.Equal(expected, Accelerators.FromHardwareName(hardware)?.Name);

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("NVIDIA H100 PCIe")]
    [InlineData("NVIDIA H100 NVL")]
    [InlineData("NVIDIA GH200 480GB")]
    [InlineData("NVIDIA GH200 144G HBM3e")]
    [InlineData("NVIDIA A100 80GB PCIe")]
    [InlineData("NVIDIA A100-PCIE-40GB")]
    [InlineData("openai API (unknown hardware)")]
    public void FromHardwareName_OtherHardwareIsUnknown(string? hardware)
        => Assert.Null(Accelerators.FromHardwareName(hardware));

    [Fact]
    public void ForProfile_Table3IdealizedIsTheA100_DenoisedIsUnknown()
    {
        Assert.Equal(Accelerators.A100_80GB, Accelerators.ForProfile(PaperTable3.Get("OpenAI/davinci", RuntimeMetric.Idealized).Metadata));
        Assert.Null(Accelerators.ForProfile(PaperTable3.Get("OpenAI/davinci", RuntimeMetric.Denoised).Metadata));
    }

    [Fact]
    public void ForProfile_UnspecifiedMetricReadsTheHardware_DenoisedDoesNot()
    {
        Assert.Equal(Accelerators.H100_SXM, Accelerators.ForProfile(new RuntimeModelMetadata { Hardware = "NVIDIA H100 80GB HBM3" }));
        Assert.Null(Accelerators.ForProfile(new RuntimeModelMetadata { Hardware = "NVIDIA H100 80GB HBM3", Metric = RuntimeMetric.Denoised }));
        Assert.Equal(Accelerators.H100_SXM, Accelerators.ForProfile(new RuntimeModelMetadata { Hardware = "h100-sxm", Metric = RuntimeMetric.Denoised }));
    }

    [Fact]
    public void ForProfile_MeasuredH100ProfileIsTheH100()
        => Assert.Equal(Accelerators.H100_SXM, Accelerators.ForProfile(ModelCatalog.GetProfile("table1-openai-davinci-h100-tp8").Metadata));

    [Fact]
    public void ForProfile_AcceleratorNameAndPriceWin()
    {
        var metadata = new RuntimeModelMetadata { Hardware = "NVIDIA A100 80GB", Metric = RuntimeMetric.Denoised, AcceleratorName = "h200", AcceleratorHourlyPriceUsd = 2.5 };

        var accelerator = Accelerators.ForProfile(metadata)!;

        Assert.Equal("H200", accelerator.Name);
        Assert.Equal(2.5, accelerator.HourlyPriceUsd);
        Assert.Equal(Accelerators.H200.BoardPowerWatts, accelerator.BoardPowerWatts);
        Assert.Contains("metadata", accelerator.PriceSource, StringComparison.Ordinal);
    }

    [Fact]
    public void ForProfile_UnknownAcceleratorName_NamesTheClosest()
    {
        var ex = Assert.Throws<KeyNotFoundException>(() => Accelerators.ForProfile(new RuntimeModelMetadata { AcceleratorName = "H100-SMX" }));
        Assert.Contains("'H100-SXM'", ex.Message, StringComparison.Ordinal);
    }
}
