using LlmEff.Core.Analysis;
using LlmEff.Core.Metrics;

namespace LlmEff.Core.Workloads;

/// <summary>
/// Estimates a whole <see cref="Workload"/> under one or many <see cref="ServingConfiguration"/>s: runtimes with
/// <see cref="RuntimeModel.PredictBatch(ReadOnlySpan{int}, ReadOnlySpan{int}, Span{double})"/>, then idealized cost
/// <c>t × n × price/s</c> and energy <c>t × n × watts</c> per query (§4.2), and FLOPs per query when the architecture is known.
/// </summary>
public static class WorkloadEstimator
{
    /// <summary>Estimates <paramref name="workload"/> under <paramref name="configuration"/>.</summary>
    public static WorkloadEstimate Estimate(Workload workload, ServingConfiguration configuration, FlopCountOptions? flopOptions = null)
    {
        ArgumentNullException.ThrowIfNull(workload);
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(configuration.Runtime, nameof(configuration));
        var n = configuration.EffectiveAcceleratorCount;
        if (n < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(configuration), n, $"{configuration.Name}: the accelerator count is {n}; set ServingConfiguration.AcceleratorCount (or the runtime's metadata) to at least 1.");
        }

        var runtimes = configuration.Runtime.PredictBatch(workload.PromptTokens, workload.OutputTokens);
        double[]? cost = null, energy = null, flops = null;
        if (configuration.Accelerator is { } accelerator)
        {
            accelerator.Validate();
            cost = new double[runtimes.Length];
            energy = new double[runtimes.Length];
            for (var i = 0; i < runtimes.Length; i++)
            {
                cost[i] = IdealizedMetrics.DollarCostUsd(runtimes[i], n, accelerator);
                energy[i] = IdealizedMetrics.EnergyJoules(runtimes[i], n, accelerator);
            }
        }

        if (configuration.Architecture is { } architecture)
        {
            flops = new double[runtimes.Length];
            for (var i = 0; i < runtimes.Length; i++)
            {
                flops[i] = IdealizedMetrics.QueryFlops(architecture, workload.PromptTokens[i], workload.OutputTokens[i], flopOptions);
            }
        }

        var assumed = configuration.AcceleratorCount is null && configuration.Runtime.Metadata.AcceleratorCount is null;
        return new WorkloadEstimate(configuration.Name, workload.Name, n, assumed, runtimes, cost, energy, flops);
    }

    /// <summary>Estimates <paramref name="workload"/> under each configuration, in the given order.</summary>
    public static IReadOnlyList<WorkloadEstimate> Estimate(Workload workload, IEnumerable<ServingConfiguration> configurations, FlopCountOptions? flopOptions = null)
    {
        ArgumentNullException.ThrowIfNull(configurations);
        return configurations.Select(c => Estimate(workload, c, flopOptions)).ToArray();
    }
}
