namespace LlmEff.Core.Batching;

/// <summary>Idealized runtime, cost and energy of one query served in a static batch (<see cref="BatchServing.PerQuery"/>).</summary>
/// <param name="Prediction">The whole batch's predicted runtime.</param>
/// <param name="AcceleratorCount">Accelerators serving the batch, <c>n</c>.</param>
/// <param name="CostPerQueryUsd">Idealized dollar cost per query, <c>t(p, o, b) · n · price / b</c>.</param>
/// <param name="EnergyPerQueryJoules">Idealized energy per query, <c>t(p, o, b) · n · power / b</c>.</param>
/// <param name="RequiredBytes">Weights plus <c>b</c> KV caches, when a memory plan was given; otherwise null.</param>
public sealed record BatchedQueryCost(
    BatchedRuntimePrediction Prediction,
    int AcceleratorCount,
    double CostPerQueryUsd,
    double EnergyPerQueryJoules,
    double? RequiredBytes)
{
    /// <summary>Queries in the batch, <c>b</c>.</summary>
    public int BatchSize => Prediction.BatchSize;

    /// <summary>End-to-end latency of each query: the whole batch's runtime.</summary>
    public double LatencySeconds => Prediction.BatchSeconds;

    /// <summary>Accelerator time per query, <c>t · n / b</c>, in accelerator-seconds: the idealized runtime share each query pays for.</summary>
    public double AcceleratorSecondsPerQuery => Prediction.BatchSeconds * AcceleratorCount / BatchSize;

    /// <summary>Mean time between a query's output tokens (see <see cref="BatchedRuntimePrediction.TimePerOutputTokenSeconds"/>).</summary>
    public double TimePerOutputTokenSeconds => Prediction.TimePerOutputTokenSeconds;
}
