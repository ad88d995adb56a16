using LlmEff.Core.Analysis;
using LlmEff.Core.Architecture;
using LlmEff.Core.Hardware;
using LlmEff.Core.Metrics;
using LlmEff.Core.Reference;

namespace LlmEff.Core.Tests.Metrics;

public class IdealizedMetricsTests
{
    [Fact]
    public void CostAndEnergy_AreRuntimeTimesCountTimesRate()
    {
        // §4.2: cost = t × n × c, energy = t × n × p. t = 2 s, n = 4, $3.60/h = $0.001/s → $0.008; 400 W → 3,200 J.
        Assert.Equal(0.008, IdealizedMetrics.DollarCostUsd(2.0, 4, 0.001), 1e-15);
        Assert.Equal(3200.0, IdealizedMetrics.EnergyJoules(2.0, 4, 400.0), 1e-12);
        var custom = new Accelerator("x", 1L << 30, 1e12, 1e11, 400, 3.6);
        Assert.Equal(0.008, IdealizedMetrics.DollarCostUsd(2.0, 4, custom), 1e-15);
        Assert.Equal(3200.0, IdealizedMetrics.EnergyJoules(2.0, 4, custom), 1e-12);
    }

    [Fact]
    public void DavinciQuery_FromTable3_OnEightA100s()
    {
        // Table 3 idealized davinci: PE(512) = 0.178 s, g = 0.081 s. p = 512, o = 11: t = 0.178 + 10 · 0.081 = 0.988 s.
        // Table 1: 8 × A100-80GB. Cost 0.988 · 8 · (40.9657 / 8 / 3600) = $0.0112428; energy 0.988 · 8 · 400 W = 3,161.6 J.
        var davinci = PaperTable3.Get("OpenAI/davinci", RuntimeMetric.Idealized);
        Assert.Equal(0.0112428, IdealizedMetrics.QueryDollarCostUsd(davinci, 512, 11, 8, Accelerators.A100_80GB), 1e-7);
        Assert.Equal(3161.6, IdealizedMetrics.QueryEnergyJoules(davinci, 512, 11, 8, Accelerators.A100_80GB), 1e-9);
    }

    [Fact]
    public void QueryFlops_IsTheGeneralCount_AndEmptyPromptsCountOneToken()
    {
        var gptj = ArchitectureCatalog.Get("EleutherAI/GPT-J");
        Assert.Equal(TransformerFlops.Query(gptj, 100, 5), IdealizedMetrics.QueryFlops(gptj, 100, 5));
        Assert.Equal(TransformerFlops.Query(gptj, 1, 5), IdealizedMetrics.QueryFlops(gptj, 0, 5));
    }

    [Fact]
    public void BadInput_NamesTheArgument()
    {
        Assert.Equal("runtimeSeconds", Assert.Throws<ArgumentOutOfRangeException>(() => IdealizedMetrics.DollarCostUsd(-1, 1, 0.001)).ParamName);
        Assert.Equal("acceleratorCount", Assert.Throws<ArgumentOutOfRangeException>(() => IdealizedMetrics.EnergyJoules(1, 0, 400.0)).ParamName);
        Assert.Equal("powerWatts", Assert.Throws<ArgumentOutOfRangeException>(() => IdealizedMetrics.EnergyJoules(1, 1, double.NaN)).ParamName);
        Assert.Equal("pricePerAcceleratorSecondUsd", Assert.Throws<ArgumentOutOfRangeException>(() => IdealizedMetrics.DollarCostUsd(1, 1, -0.1)).ParamName);
    }
}
