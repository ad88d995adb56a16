using LlmEff.Core.Architecture;
using LlmEff.Core.Batching;
using LlmEff.Core.Hardware;

namespace LlmEff.Core.Tests.Batching;

public class BatchedPhysicsAndRangeTests
{
    // Two physical per-batch-size models (PE >= 0, g >= 0) profiled at b = 4 and b = 16 only.
    private static BatchedRuntimeModel ProfiledAt4And16(double g4, double g16, double pe4, double pe16) => BatchedRuntimeModel.Create(
    [
        new(4, RuntimeModel.Create([(0, pe4), (2048, pe4)], g4)),
        new(16, RuntimeModel.Create([(0, pe16), (2048, pe16)], g16)),
    ]);

    [Fact]
    public void Explain_RefusesANegativeDecodeTime_EvenWhenThePrefillKeepsTheTotalPositive()
    {
        // Decode per step 10 ms at b = 4 and 60 ms at b = 16; extrapolated to b = 1 it is 10 - 12.5 = -2.5 ms, while
        // PE (0.5 s -> 0.425 s at b = 1) keeps the total positive.
        var model = ProfiledAt4And16(g4: 0.010, g16: 0.060, pe4: 0.5, pe16: 0.8);

        var ex = Assert.Throws<InvalidOperationException>(() => model.Explain(512, 16, 1));
        Assert.Contains("Batch size 1 lies outside the profiled 4..16", ex.Message, StringComparison.Ordinal);
        Assert.Contains("profile that batch size", ex.Message, StringComparison.Ordinal);
        Assert.True(model.Explain(512, 16, 8).DecodeSeconds > 0);
    }

    [Fact]
    public void ChooseBatchSize_WithoutExtrapolation_DoesNotPickANegativeTpotBatchBelowTheProfiledRange()
    {
        var model = ProfiledAt4And16(g4: 0.010, g16: 0.060, pe4: 0.5, pe16: 0.8);
        var bound = new BatchLatencyBound { MaxTimePerOutputTokenSeconds = 0.001 }; // 1 ms: no profiled batch meets it

        var choice = BatchServing.ChooseBatchSize(model, 512, 16, Accelerators.H100_SXM, bound: bound, allowExtrapolation: false);

        // Actual: Best is b = 1 with TPOT = -2.5 ms, "meeting" the bound, though extrapolation was not allowed.
        Assert.Null(choice.Best);
        Assert.DoesNotContain(choice.Candidates, c => c.TimePerOutputTokenSeconds < 0);
        Assert.DoesNotContain(choice.Candidates, c => c.Prediction.IsBatchSizeExtrapolated);
    }

    [Fact]
    public void ChooseBatchSize_WithoutExtrapolation_DoesNotFailOnBatchSizesBelowTheProfiledRange()
    {
        // Profiled at b = 4 and 16 only: extrapolating down to b = 1 gives a negative total runtime, so evaluating b = 1
        // throws InvalidOperationException although the caller asked for no extrapolation.
        var model = ProfiledAt4And16(g4: 0.010, g16: 0.060, pe4: 0.05, pe16: 0.2);

        var ex = Record.Exception(() => BatchServing.ChooseBatchSize(model, 512, 64, Accelerators.H100_SXM, allowExtrapolation: false));

        Assert.Null(ex);
    }

    [Fact]
    public void PerQuery_RefusesAMemoryPlanForAShorterContextThanTheQueryNeeds()
    {
        var llama = ArchitectureCatalog.Get("meta-llama/Meta-Llama-3-8B");
        var model = BatchedRuntimeModel.Create(
        [
            new(1, RuntimeModel.Create([(0, 0.01), (8192, 0.5)], 0.01)),
            new(64, RuntimeModel.Create([(0, 0.05), (8192, 20.0)], 0.02)),
        ]);
        // A plan made for 16 tokens of context, used for queries of p = 8000, o = 64 (8,063 tokens of KV cache each).
        var shortPlan = BatchMemoryPlan.For(llama, Accelerators.H100_SXM, contextTokens: 16);
        var realPlan = BatchMemoryPlan.For(llama, Accelerators.H100_SXM, contextTokens: 8000 + 64 - 1);
        var b = realPlan.MaximumBatchSize + 1; // does not fit at the query's real context
        Assert.True(b <= model.MaximumProfiledBatchSize);
        Assert.False(realPlan.Fits(b));
        Assert.True(shortPlan.Fits(b));

        // Actual: succeeds and reports RequiredBytes for 16-token caches.
        Assert.ThrowsAny<ArgumentException>(() => BatchServing.PerQuery(model, 8000, 64, b, Accelerators.H100_SXM, memory: shortPlan));
    }

    [Fact]
    public void FromJson_RefusesANegativeHourlyPrice_AsTheBatchOneSchemaDoes()
    {
        var model = BatchedRuntimeModel.Create(
        [
            new(1, RuntimeModel.Create([(0, 0.01), (2048, 0.5)], 0.01)),
            new(4, RuntimeModel.Create([(0, 0.02), (2048, 1.5)], 0.012)),
        ], new RuntimeModelMetadata { ModelName = "m", AcceleratorHourlyPriceUsd = 2.0 });
        var json = model.ToJson().Replace("\"accelerator_hourly_price_usd\": 2", "\"accelerator_hourly_price_usd\": -2", StringComparison.Ordinal);
        Assert.Contains("-2", json, StringComparison.Ordinal);

        // The batch-1 schema refuses the same value (metadata.accelerator_hourly_price_usd).
        var single = RuntimeModel.Create([(0, 0.01), (2048, 0.5)], 0.01, 0, new RuntimeModelMetadata { AcceleratorHourlyPriceUsd = 2.0 }).ToJson()
            .Replace("\"accelerator_hourly_price_usd\": 2", "\"accelerator_hourly_price_usd\": -2", StringComparison.Ordinal);
        Assert.Throws<InvalidDataException>(() => RuntimeModel.FromJson(single));

        var ex = Assert.Throws<InvalidDataException>(() => BatchedRuntimeModel.FromJson(json));
        Assert.Contains("accelerator_hourly_price_usd", ex.Message, StringComparison.Ordinal);
    }
}
