namespace LlmEff.Core.Workloads;

/// <summary>Per-query and aggregate runtime, idealized cost, energy and FLOPs of one workload under one configuration.</summary>
public sealed class WorkloadEstimate
{
    internal WorkloadEstimate(string configurationName, string workloadName, int acceleratorCount, bool acceleratorCountAssumed, double[] runtimeSeconds, double[]? dollarCostUsd, double[]? energyJoules, double[]? flops)
    {
        ConfigurationName = configurationName;
        WorkloadName = workloadName;
        AcceleratorCount = acceleratorCount;
        AcceleratorCountAssumed = acceleratorCountAssumed;
        RuntimeSeconds = runtimeSeconds;
        DollarCostUsd = dollarCostUsd;
        EnergyJoules = energyJoules;
        Flops = flops;
    }

    /// <summary>The configuration (model) these numbers are for.</summary>
    public string ConfigurationName { get; }

    /// <summary>The workload's name.</summary>
    public string WorkloadName { get; }

    /// <summary>Accelerators per request used for cost and energy.</summary>
    public int AcceleratorCount { get; }

    /// <summary>
    /// Whether <see cref="AcceleratorCount"/> is the default 1 because neither the configuration nor the runtime's metadata
    /// gave a count (a denoised API model, or a fit without hardware), so costs and energies of it rest on that assumption.
    /// </summary>
    public bool AcceleratorCountAssumed { get; }

    /// <summary>Predicted runtime of each query, seconds.</summary>
    public IReadOnlyList<double> RuntimeSeconds { get; }

    /// <summary>Idealized dollar cost of each query, US dollars; null without an accelerator.</summary>
    public IReadOnlyList<double>? DollarCostUsd { get; }

    /// <summary>Idealized energy of each query, joules; null without an accelerator.</summary>
    public IReadOnlyList<double>? EnergyJoules { get; }

    /// <summary>FLOPs of each query; null without an architecture.</summary>
    public IReadOnlyList<double>? Flops { get; }

    /// <summary>Number of queries.</summary>
    public int Count => RuntimeSeconds.Count;

    /// <summary>Sum of runtimes, seconds (the workload run one query at a time).</summary>
    public double TotalRuntimeSeconds => RuntimeSeconds.Sum();

    /// <summary>Mean runtime per query, seconds (the paper's Figure 9 averages per scenario).</summary>
    public double MeanRuntimeSeconds => TotalRuntimeSeconds / Count;

    /// <summary>Total idealized dollar cost, US dollars; null without an accelerator.</summary>
    public double? TotalDollarCostUsd => DollarCostUsd?.Sum();

    /// <summary>Mean idealized dollar cost per query, US dollars; null without an accelerator.</summary>
    public double? MeanDollarCostUsd => TotalDollarCostUsd / Count;

    /// <summary>Total idealized energy, joules; null without an accelerator.</summary>
    public double? TotalEnergyJoules => EnergyJoules?.Sum();

    /// <summary>Total idealized energy in kilowatt-hours; null without an accelerator.</summary>
    public double? TotalEnergyKilowattHours => TotalEnergyJoules / 3.6e6;

    /// <summary>Total FLOPs; null without an architecture.</summary>
    public double? TotalFlops => Flops?.Sum();

    /// <summary>Mean FLOPs per query; null without an architecture.</summary>
    public double? MeanFlops => TotalFlops / Count;

    /// <inheritdoc />
    public override string ToString() => FormattableString.Invariant(
        $"{ConfigurationName} on {WorkloadName}: {Count} queries, {TotalRuntimeSeconds:F2} s, {(TotalDollarCostUsd is { } c ? FormattableString.Invariant($"${c:F4}") : "cost n/a")}, {(TotalEnergyJoules is { } e ? FormattableString.Invariant($"{e:F0} J") : "energy n/a")}");
}
