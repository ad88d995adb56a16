using System.Globalization;
using LlmEff.Core.Hardware;
using LlmEff.Core.Metrics;

namespace LlmEff.Core.Batching;

/// <summary>
/// Idealized cost and energy per query when queries are served in static batches: a batch of <c>b</c> queries occupies
/// <c>n</c> accelerators for <c>t(p, o, b)</c>, so each query pays <c>t · n · price / b</c> (energy <c>t · n · power / b</c>),
/// the paper's §4.2 metrics shared among the batch. Larger batches are cheaper per query until the accelerators turn
/// compute-bound, and slower per query throughout, so the cheapest batch depends on the latency one accepts.
/// </summary>
public static class BatchServing
{
    /// <summary>Runtime, cost and energy per query of <paramref name="batchSize"/> queries of <c>(p, o)</c> served together.</summary>
    /// <param name="model">The batched runtime model.</param>
    /// <param name="promptTokens">Prompt size <c>p</c>.</param>
    /// <param name="outputTokens">Output tokens <c>o</c>; at least 1.</param>
    /// <param name="batchSize">Queries per batch <c>b</c>; at least 1.</param>
    /// <param name="accelerator">Prices the accelerator-seconds and gives the power.</param>
    /// <param name="acceleratorCount">Accelerators serving a batch, <c>n</c>; at least 1.</param>
    /// <param name="memory">When given, the batch must fit it: checked before anything else. Its context must hold the query's <c>p + o − 1</c> positions.</param>
    /// <exception cref="ArgumentOutOfRangeException">A count is out of range, or the batch does not fit <paramref name="memory"/> (the message gives the memory needed and the largest batch that fits).</exception>
    /// <exception cref="ArgumentException"><paramref name="memory"/> was planned for a shorter context than the query's.</exception>
    public static BatchedQueryCost PerQuery(
        BatchedRuntimeModel model,
        int promptTokens,
        int outputTokens,
        int batchSize,
        Accelerator accelerator,
        int acceleratorCount = 1,
        BatchMemoryPlan? memory = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(accelerator);
        if (batchSize < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "A batch holds 1 or more queries; pass batchSize >= 1.");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(acceleratorCount, 1);
        EnsureContext(memory, promptTokens, outputTokens);
        memory?.EnsureFits(batchSize);
        var prediction = model.Explain(promptTokens, outputTokens, batchSize);
        return new BatchedQueryCost(
            prediction,
            acceleratorCount,
            IdealizedMetrics.DollarCostUsd(prediction.BatchSeconds, acceleratorCount, accelerator) / batchSize,
            IdealizedMetrics.EnergyJoules(prediction.BatchSeconds, acceleratorCount, accelerator) / batchSize,
            memory?.RequiredBytes(batchSize));
    }

    /// <summary>
    /// The batch size with the lowest cost per query whose latency meets <paramref name="bound"/>, from the smallest profiled
    /// batch size (1 when <paramref name="allowExtrapolation"/>) up to the smallest of: the memory limit
    /// (<paramref name="memory"/>), <paramref name="maxBatchSize"/>, and, unless <paramref name="allowExtrapolation"/>, the
    /// largest profiled batch size.
    /// </summary>
    /// <param name="model">The batched runtime model.</param>
    /// <param name="promptTokens">Prompt size <c>p</c> of every query.</param>
    /// <param name="outputTokens">Output tokens <c>o</c> of every query.</param>
    /// <param name="accelerator">Prices the accelerator-seconds and gives the power.</param>
    /// <param name="acceleratorCount">Accelerators serving a batch; at least 1.</param>
    /// <param name="memory">Memory of the deployment; null to ignore memory (the answer then says so).</param>
    /// <param name="bound">Latency bound; <see cref="BatchLatencyBound.None"/> when null.</param>
    /// <param name="maxBatchSize">Caller's cap on the batch size; null for none.</param>
    /// <param name="allowExtrapolation">Consider batch sizes beyond the profiled range (their runtimes are extrapolated). Default false.</param>
    /// <exception cref="ArgumentOutOfRangeException">A count is out of range, or not even one query fits <paramref name="memory"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="memory"/> was planned for a shorter context than the queries'.</exception>
    public static BatchChoice ChooseBatchSize(
        BatchedRuntimeModel model,
        int promptTokens,
        int outputTokens,
        Accelerator accelerator,
        int acceleratorCount = 1,
        BatchMemoryPlan? memory = null,
        BatchLatencyBound? bound = null,
        int? maxBatchSize = null,
        bool allowExtrapolation = false)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(accelerator);
        bound = (bound ?? BatchLatencyBound.None).Validate();
        if (maxBatchSize is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(maxBatchSize), maxBatchSize, "A batch-size cap is 1 or more, or null for none.");
        }

        EnsureContext(memory, promptTokens, outputTokens);
        var first = allowExtrapolation ? 1 : model.MinimumProfiledBatchSize;
        var limit = allowExtrapolation ? int.MaxValue : model.MaximumProfiledBatchSize;
        var limitedBy = "profiled range";
        if (maxBatchSize is { } cap && cap <= limit)
        {
            limit = cap;
            limitedBy = "cap";
        }

        if (memory is not null && memory.MaximumBatchSize <= limit)
        {
            limit = memory.MaximumBatchSize;
            limitedBy = "memory";
            memory.EnsureFits(Math.Max(1, limit));
        }

        if (limit == int.MaxValue)
        {
            throw new ArgumentException("With extrapolation allowed and neither a memory plan nor a cap, the batch size is unbounded; pass memory or maxBatchSize.", nameof(allowExtrapolation));
        }

        if (limit < first)
        {
            return new BatchChoice(null, [], limit, limitedBy, string.Create(CultureInfo.InvariantCulture,
                $"No batch size to consider: the {limitedBy} allows at most {limit}, below the smallest profiled batch size {first}; profile smaller batches or allow extrapolation."));
        }

        var candidates = new List<BatchedQueryCost>(limit - first + 1);
        for (var b = first; b <= limit; b++)
        {
            candidates.Add(PerQuery(model, promptTokens, outputTokens, b, accelerator, acceleratorCount, memory));
        }

        var feasible = candidates.Where(c => bound.IsMetBy(c.Prediction)).ToArray();
        var memoryNote = memory is null ? " (memory not checked)" : string.Empty;
        if (feasible.Length == 0)
        {
            return new BatchChoice(null, candidates, limit, limitedBy, string.Create(CultureInfo.InvariantCulture,
                $"No batch size from {first} to {limit} meets {bound}: even batch {first} takes {candidates[0].LatencySeconds:G4} s end to end and {candidates[0].TimePerOutputTokenSeconds * 1e3:G4} ms per output token; relax the bound or use faster hardware."));
        }

        var best = feasible.MinBy(c => c.CostPerQueryUsd)!;
        var why = best.BatchSize == limit
            ? $"the largest batch considered, capped by {limitedBy}{memoryNote}"
            : feasible.Length < candidates.Count && feasible.Max(c => c.BatchSize) == best.BatchSize
                ? $"the largest batch meeting {bound}"
                : "where cost per query stops falling";
        return new BatchChoice(best, candidates, limit, limitedBy, string.Create(CultureInfo.InvariantCulture,
            $"Batch {best.BatchSize}: {best.CostPerQueryUsd:G4} USD and {best.EnergyPerQueryJoules:G4} J per query, {best.LatencySeconds:G4} s end to end ({why}){(best.Prediction.IsExtrapolated ? "; extrapolated beyond the profiled range" : string.Empty)}."));
    }

    private static void EnsureContext(BatchMemoryPlan? memory, int promptTokens, int outputTokens)
    {
        var needed = (long)promptTokens + outputTokens - 1;
        if (memory is not null && needed > memory.ContextTokens)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"The memory plan holds {memory.ContextTokens} tokens of KV cache per query, but a query of p = {promptTokens}, o = {outputTokens} needs {needed}; build it with BatchMemoryPlan.For(..., contextTokens: {needed})."), nameof(memory));
        }
    }
}
