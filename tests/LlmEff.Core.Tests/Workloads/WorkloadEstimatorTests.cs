using LlmEff.Core.Analysis;
using LlmEff.Core.Architecture;
using LlmEff.Core.Hardware;
using LlmEff.Core.Metrics;
using LlmEff.Core.Reference;
using LlmEff.Core.Workloads;

namespace LlmEff.Core.Tests.Workloads;

public class WorkloadEstimatorTests
{
    private static readonly Workload Two = new("two", [new WorkloadQuery(512, 11), new WorkloadQuery(1024, 1)]);

    [Fact]
    public void ToString_ReadsTheSameUnderACommaCulture()
    {
        var config = new ServingConfiguration("davinci", PaperTable3.Get("OpenAI/davinci", RuntimeMetric.Idealized)) { Accelerator = Accelerators.A100_80GB };
        var estimate = WorkloadEstimator.Estimate(Two, config);
        var invariant = estimate.ToString();
        var previous = System.Globalization.CultureInfo.CurrentCulture;
        try
        {
            var comma = (System.Globalization.CultureInfo)System.Globalization.CultureInfo.InvariantCulture.Clone();
            comma.NumberFormat.NumberDecimalSeparator = ",";
            comma.NumberFormat.CurrencyDecimalSeparator = ",";
            System.Globalization.CultureInfo.CurrentCulture = comma;
            Assert.Equal(invariant, estimate.ToString()); // the cost and energy once took the comma
        }
        finally
        {
            System.Globalization.CultureInfo.CurrentCulture = previous;
        }

        Assert.Matches(@"\$\d+\.\d{4}, \d+ J$", invariant);
    }

    [Fact]
    public void Davinci_PerQueryAndAggregate_FromTable3()
    {
        // Table 3 idealized davinci (PE(512) = 0.178, PE(1024) = 0.323, g = 0.081), 8 × A100-80GB (Table 1):
        // t = 0.988 s and 0.323 s, total 1.311 s; cost 1.311 · 8 · 40.9657/8/3600 = $0.0149183; energy 1.311 · 8 · 400 = 4,195.2 J.
        var config = new ServingConfiguration("davinci", PaperTable3.Get("OpenAI/davinci", RuntimeMetric.Idealized)) { Accelerator = Accelerators.A100_80GB };
        var estimate = WorkloadEstimator.Estimate(Two, config);
        Assert.Equal(8, estimate.AcceleratorCount); // from the Table 3 model's metadata
        Assert.Equal(0.988, estimate.RuntimeSeconds[0], 1e-12);
        Assert.Equal(0.323, estimate.RuntimeSeconds[1], 1e-12);
        Assert.Equal(1.311, estimate.TotalRuntimeSeconds, 1e-12);
        Assert.Equal(0.6555, estimate.MeanRuntimeSeconds, 1e-12);
        Assert.Equal(0.0149183, estimate.TotalDollarCostUsd!.Value, 1e-7);
        Assert.Equal(4195.2, estimate.TotalEnergyJoules!.Value, 1e-9);
        Assert.Equal(4195.2 / 3.6e6, estimate.TotalEnergyKilowattHours!.Value, 1e-12);
        Assert.Null(estimate.Flops);
    }

    [Fact]
    public void ManyModels_InOrder_WithFlopsWhenTheArchitectureIsKnown()
    {
        var gptj = ArchitectureCatalog.Get("EleutherAI/GPT-J");
        var roofline = RooflineEstimator.Estimate(gptj, Accelerators.A100_80GB, 1);
        var configs = new[]
        {
            new ServingConfiguration("roofline GPT-J", roofline) { Accelerator = Accelerators.A100_80GB, Architecture = gptj },
            ServingConfiguration.For(PaperTable3.Get("AI21/J1-Grande v1", RuntimeMetric.Idealized)),
        };
        var estimates = WorkloadEstimator.Estimate(Workload.Sample, configs);
        Assert.Equal(["roofline GPT-J", "AI21/J1-Grande v1"], estimates.Select(e => e.ConfigurationName));
        Assert.Equal(roofline.PredictBatch(Workload.Sample.PromptTokens, Workload.Sample.OutputTokens), estimates[0].RuntimeSeconds);
        Assert.Equal(TransformerFlops.Query(gptj, Workload.Sample[0].PromptTokens, Workload.Sample[0].OutputTokens), estimates[0].Flops![0]);
        Assert.Null(estimates[1].DollarCostUsd);
        Assert.Equal(1, estimates[1].AcceleratorCount);
        Assert.Equal(1000, estimates[1].Count);
    }

    [Fact]
    public void ExplicitAcceleratorCount_OverridesMetadata()
    {
        var config = new ServingConfiguration("davinci", PaperTable3.Get("OpenAI/davinci", RuntimeMetric.Idealized)) { Accelerator = Accelerators.A100_80GB, AcceleratorCount = 6 };
        var estimate = WorkloadEstimator.Estimate(Two, config);
        Assert.Equal(6, estimate.AcceleratorCount);
        Assert.Equal(1.311 * 6 * 400, estimate.TotalEnergyJoules!.Value, 1e-9);
        Assert.Throws<ArgumentOutOfRangeException>(() => WorkloadEstimator.Estimate(Two, config with { AcceleratorCount = 0 }));
    }
}
