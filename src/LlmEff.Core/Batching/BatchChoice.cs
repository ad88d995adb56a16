namespace LlmEff.Core.Batching;

/// <summary>The batch size that minimizes cost per query under a latency bound and memory (<see cref="BatchServing.ChooseBatchSize"/>).</summary>
/// <param name="Best">The cheapest batch per query that meets the bound; null when none does (see <see cref="Explanation"/>).</param>
/// <param name="Candidates">Every batch size considered, ascending (the cost-per-query against latency curve).</param>
/// <param name="LargestBatchSizeConsidered">The largest batch size looked at: the memory limit, the caller's cap or the profiled range, whichever is smallest.</param>
/// <param name="LimitedBy">What capped <see cref="LargestBatchSizeConsidered"/>: <c>memory</c>, <c>cap</c> or <c>profiled range</c>.</param>
/// <param name="Explanation">One sentence on the choice: which batch, why there, or why none.</param>
public sealed record BatchChoice(
    BatchedQueryCost? Best,
    IReadOnlyList<BatchedQueryCost> Candidates,
    int LargestBatchSizeConsidered,
    string LimitedBy,
    string Explanation);
