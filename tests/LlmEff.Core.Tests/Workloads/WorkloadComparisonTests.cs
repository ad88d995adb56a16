using System.Text.Json;
using LlmEff.Core.Hardware;
using LlmEff.Core.Workloads;

namespace LlmEff.Core.Tests.Workloads;

public class WorkloadComparisonTests
{
    // A: PE = 0.2 s flat, g = 0.02 s; B: PE = 0.1 s flat, g = 0.01 s, so B is exactly twice as fast on every query.
    private static readonly RuntimeModel SlowModel = RuntimeModel.Create([(1, 0.2), (2048, 0.2)], 0.02);
    private static readonly RuntimeModel FastModel = RuntimeModel.Create([(1, 0.1), (2048, 0.1)], 0.01);
    private static readonly Workload Queries = new("three", [new WorkloadQuery(100, 1), new WorkloadQuery(200, 11), new WorkloadQuery(300, 21)]);

    [Fact]
    public void Compute_SpeedupsSummaryAndVerdict()
    {
        var c = WorkloadComparison.Compute(Queries, new ServingConfiguration("A", SlowModel), new ServingConfiguration("B", FastModel));

        Assert.All(c.Speedups, s => Assert.Equal(2, s, 1e-12));
        Assert.Equal(2, c.SpeedupSummary.Mean, 1e-12);
        Assert.Equal(2, c.SpeedupSummary.Median, 1e-12);
        Assert.Equal(2, c.SpeedupSummary.Minimum, 1e-12);
        Assert.Equal(2, c.SpeedupSummary.Maximum, 1e-12);
        Assert.Equal(2, c.TotalSpeedup, 1e-12);
        Assert.Null(c.CostRatios);
        Assert.Null(c.CostRatioSummary);
        Assert.Null(c.TotalCostRatio);
        Assert.Equal("B is faster than A on this workload.", c.Verdict);
    }

    [Fact]
    public void Compute_WithAccelerators_CostRatios()
    {
        // B twice as fast on an accelerator twice as expensive: the same cost.
        var a = ServingConfiguration.For(SlowModel, Accelerators.A100_80GB) with { Name = "A" };
        var b = ServingConfiguration.For(FastModel, Accelerators.A100_80GB with { HourlyPriceUsd = 2 * Accelerators.A100_80GB.HourlyPriceUsd }) with { Name = "B" };

        var c = WorkloadComparison.Compute(Queries, a, b);

        Assert.All(c.CostRatios!, r => Assert.Equal(1, r, 1e-12));
        Assert.Equal(1, c.CostRatioSummary!.Median, 1e-12);
        Assert.Equal(1, c.TotalCostRatio!.Value, 1e-12);
        Assert.Equal(0.5, c.TotalEnergyRatio!.Value, 1e-12);
    }

    [Fact]
    public void RatioSummary_MedianInterpolates()
    {
        var s = RatioSummary.Of([4, 1, 3, 2]);
        Assert.Equal(new RatioSummary(2.5, 2.5, 1, 4), s);
        Assert.Throws<ArgumentException>(() => RatioSummary.Of([]));
    }

    [Fact]
    public void WriteJson_And_WritePerQueryCsv()
    {
        var c = WorkloadComparison.Compute(Queries, new ServingConfiguration("A", SlowModel), new ServingConfiguration("B", FastModel));
        using var text = new StringWriter();

        c.WriteJson(text);

        using var doc = JsonDocument.Parse(text.ToString());
        Assert.Equal(3, doc.RootElement.GetProperty("queries").GetInt32());
        Assert.Equal(2, doc.RootElement.GetProperty("speedup").GetProperty("median").GetDouble(), 1e-12);
        Assert.Equal(3, doc.RootElement.GetProperty("per_query").GetArrayLength());

        var path = Path.Combine(Path.GetTempPath(), $"llmeff-compare-{Guid.NewGuid():N}.csv");
        try
        {
            c.WritePerQueryCsv(path);
            var lines = File.ReadAllLines(path);
            Assert.Equal(4, lines.Length);
            Assert.StartsWith("prompt_tokens,output_tokens,a_seconds,b_seconds,speedup", lines[0], StringComparison.Ordinal);
            Assert.StartsWith("200,11,", lines[2], StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Compute_NullArguments_AreNamed()
        => Assert.Equal("workload", Assert.Throws<ArgumentNullException>(() => WorkloadComparison.Compute(null!, new ServingConfiguration("A", SlowModel), new ServingConfiguration("B", FastModel))).ParamName);

    [Fact]
    public void Verdict_SaysAsFastWhenTheRuntimesAreEqual_AndNamesTheCostSide()
    {
        // The same model on a dearer accelerator: equally fast, more expensive (it once said "faster").
        var a = new ServingConfiguration("A", SlowModel) { Accelerator = Accelerators.A100_80GB };
        var b = new ServingConfiguration("B", SlowModel) { Accelerator = Accelerators.H100_SXM };
        Assert.Equal("B is as fast as A but more expensive on this workload.", WorkloadComparison.Compute(Queries, a, b).Verdict);
        Assert.Equal("B is as fast as A and cheaper on this workload.", WorkloadComparison.Compute(Queries, b, a).Verdict);
        Assert.Equal("A and B are equally fast and equally expensive on this workload.", WorkloadComparison.Compute(Queries, a, a).Verdict);
        Assert.Equal("B is faster than A and cheaper on this workload.", WorkloadComparison.Compute(Queries, a with { Runtime = SlowModel }, a with { Runtime = FastModel }).Verdict);
        // Twice the time on an accelerator at 0.42 of the price: slower, but cheaper.
        Assert.Equal("B is slower than A but cheaper on this workload.", WorkloadComparison.Compute(Queries, b with { Runtime = FastModel }, a).Verdict);
    }

    [Fact]
    public void AFreeBaseline_GivesNoCostRatio_InsteadOfThrowing()
    {
        // An accelerator priced at 0 is allowed; B/0 is no ratio, so the cost side is unknown and the rest stands.
        var free = (Accelerators.H100_SXM with { HourlyPriceUsd = 0 }).Validate();
        var c = WorkloadComparison.Compute(Queries, new ServingConfiguration("A", SlowModel) { Accelerator = free }, new ServingConfiguration("B", FastModel) { Accelerator = Accelerators.H100_SXM });

        Assert.Null(c.CostRatios);
        Assert.Null(c.TotalCostRatio);
        Assert.Equal(2, c.TotalSpeedup, 1e-12);
        Assert.Equal("B is faster than A on this workload.", c.Verdict);
    }
}
