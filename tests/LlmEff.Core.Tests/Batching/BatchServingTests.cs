using LlmEff.Core.Analysis;
using LlmEff.Core.Architecture;
using LlmEff.Core.Batching;
using LlmEff.Core.Hardware;

namespace LlmEff.Core.Tests.Batching;

public class BatchServingTests
{
    private static readonly BatchedRuntimeModel Model = BatchedRuntimeModel.Fit(
        BatchedRuntimeModelTests.Grid(BatchedRuntimeModelTests.LinearTruth, BatchedRuntimeModelTests.Batches));

    [Fact]
    public void LatencyBound_ToString_ReadsTheSameUnderACommaCulture()
    {
        var bound = new BatchLatencyBound { MaxTimePerOutputTokenSeconds = 0.0125, MaxEndToEndSeconds = 1.5 };
        var previous = System.Globalization.CultureInfo.CurrentCulture;
        try
        {
            var comma = (System.Globalization.CultureInfo)System.Globalization.CultureInfo.InvariantCulture.Clone();
            comma.NumberFormat.NumberDecimalSeparator = ",";
            System.Globalization.CultureInfo.CurrentCulture = comma;
            Assert.Equal("TPOT <= 12.5 ms, end-to-end <= 1.5 s", bound.ToString()); // the text the batch choice's reasons quote
        }
        finally
        {
            System.Globalization.CultureInfo.CurrentCulture = previous;
        }
    }

    [Fact]
    public void MemoryPlan_CountsWeightsAndOneKvCachePerQuery()
    {
        var gptj = ArchitectureCatalog.Get("EleutherAI/gpt-j-6b");
        var plan = BatchMemoryPlan.For(gptj, Accelerators.H100_SXM, contextTokens: 2048);

        var weights = gptj.ParameterCount * 2.0;
        var kv = 2.0 * 28 * 4096 * 2 * 2048; // 2 · layers · kv width · fp16 bytes · context
        Assert.Equal(weights, plan.WeightBytes, 1e-3);
        Assert.Equal(kv, plan.KvCacheBytesPerQuery, 1e-3);
        var usable = Accelerators.H100_SXM.MemoryBytes * 0.9;
        var expected = (int)Math.Floor((usable - weights) / kv);
        Assert.Equal(expected, plan.MaximumBatchSize);
        Assert.True(plan.Fits(expected));
        Assert.False(plan.Fits(expected + 1));
    }

    [Fact]
    public void MemoryPlan_RefusesABatchThatDoesNotFit_WithTheNeedAndTheLargestThatFits()
    {
        var plan = BatchMemoryPlan.For(ArchitectureCatalog.Get("meta-llama/Meta-Llama-3-8B"), Accelerators.H100_SXM, contextTokens: 2048);
        var tooMany = plan.MaximumBatchSize + 1;

        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => plan.EnsureFits(tooMany));
        Assert.Equal("batchSize", ex.ParamName);
        Assert.Contains($"largest batch that fits is {plan.MaximumBatchSize}", ex.Message, StringComparison.Ordinal);
        Assert.Contains(FormattableString.Invariant($"{plan.RequiredBytes(tooMany) / 1e9:F1} GB"), ex.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => plan.RequiredBytes(0));
    }

    [Fact]
    public void MemoryPlan_UnderTensorParallelism_ReplicatesKvHeadsPastTheirCount()
    {
        var llama = ArchitectureCatalog.Get("meta-llama/Meta-Llama-3-8B"); // 8 KV heads
        var tp8 = BatchMemoryPlan.For(llama, Accelerators.H100_SXM, 2048, tensorParallelDegree: 8);
        var tp16 = BatchMemoryPlan.For(llama, Accelerators.H100_SXM, 2048, tensorParallelDegree: 16);
        Assert.Equal(MemoryTraffic.KvCacheBytes(llama, InferencePrecision.Fp16, 2048), tp8.KvCacheBytesPerQuery, 1e-3);
        Assert.Equal(2 * tp8.KvCacheBytesPerQuery, tp16.KvCacheBytesPerQuery, 1e-3);
        Assert.Equal(8, tp8.AcceleratorCount);
    }

    [Fact]
    public void CostPerQuery_IsTheBatchRuntimeTimesAcceleratorsAndPriceOverB()
    {
        var h100 = Accelerators.H100_SXM;
        var cost = BatchServing.PerQuery(Model, 512, 64, 16, h100, acceleratorCount: 2);

        var t = Model.Predict(512, 64, 16);
        Assert.Equal(t * 2 * h100.PricePerSecondUsd / 16, cost.CostPerQueryUsd, 1e-15);
        Assert.Equal(t * 2 * h100.BoardPowerWatts / 16, cost.EnergyPerQueryJoules, 1e-9);
        Assert.Equal(t, cost.LatencySeconds);
        Assert.Null(cost.RequiredBytes);
        // Batching amortises the weights: per query, batch 16 is cheaper than batch 1 here.
        Assert.True(cost.CostPerQueryUsd < BatchServing.PerQuery(Model, 512, 64, 1, h100, 2).CostPerQueryUsd);
    }

    [Fact]
    public void PerQuery_WithMemory_FailsBeforePredicting()
    {
        var plan = new BatchMemoryPlan("m", 1, 2048, 60e9, 1e9, 72e9);
        Assert.Equal(12, plan.MaximumBatchSize);
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => BatchServing.PerQuery(Model, 512, 64, 13, Accelerators.H100_SXM, 1, plan));
        Assert.Contains("largest batch that fits is 12", ex.Message, StringComparison.Ordinal);
        Assert.Equal(72e9, BatchServing.PerQuery(Model, 512, 64, 12, Accelerators.H100_SXM, 1, plan).RequiredBytes);
    }

    [Fact]
    public void ChooseBatchSize_MatchesBruteForce_UnderATimePerTokenBound()
    {
        var h100 = Accelerators.H100_SXM;
        var bound = new BatchLatencyBound { MaxTimePerOutputTokenSeconds = 0.0125 };
        var choice = BatchServing.ChooseBatchSize(Model, 512, 64, h100, bound: bound);

        var brute = Enumerable.Range(1, 64)
            .Select(b => (b, t: Model.Explain(512, 64, b)))
            .Where(x => x.t.TimePerOutputTokenSeconds <= 0.0125)
            .MinBy(x => x.t.BatchSeconds / x.b);
        Assert.NotNull(choice.Best);
        Assert.Equal(brute.b, choice.Best!.BatchSize);
        Assert.True(choice.Best.BatchSize is > 1 and < 64);
        Assert.Equal(64, choice.Candidates.Count);
        Assert.Equal("profiled range", choice.LimitedBy);
        Assert.Contains($"Batch {brute.b}", choice.Explanation, StringComparison.Ordinal);
    }

    [Fact]
    public void ChooseBatchSize_IsCappedByMemory_AndSaysSo()
    {
        var plan = new BatchMemoryPlan("m", 1, 2048, 60e9, 1e9, 72e9);
        var choice = BatchServing.ChooseBatchSize(Model, 512, 64, Accelerators.H100_SXM, memory: plan);
        Assert.Equal(12, choice.LargestBatchSizeConsidered);
        Assert.Equal("memory", choice.LimitedBy);
        Assert.Equal(12, choice.Best!.BatchSize);
    }

    [Fact]
    public void ChooseBatchSize_WithAnUnmeetableBound_ReturnsNoBest_AndWhy()
    {
        var choice = BatchServing.ChooseBatchSize(Model, 512, 64, Accelerators.H100_SXM, bound: new BatchLatencyBound { MaxEndToEndSeconds = 0.01 });
        Assert.Null(choice.Best);
        Assert.Contains("No batch size", choice.Explanation, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => BatchServing.ChooseBatchSize(Model, 512, 64, Accelerators.H100_SXM, bound: new BatchLatencyBound { MaxEndToEndSeconds = -1 }));
    }
}
