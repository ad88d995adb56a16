using System.Globalization;
using LlmEff.Core.Workloads;

namespace LlmEff.Cli.Commands;

/// <summary>The text summary <c>llmeff compare</c> prints for a <see cref="WorkloadComparison"/>.</summary>
internal static class CompareReport
{
    /// <param name="output">Where to write.</param>
    /// <param name="comparison">The comparison.</param>
    public static void WriteSummary(TextWriter output, WorkloadComparison comparison)
    {
        var inv = CultureInfo.InvariantCulture;
        var (workload, baseline, candidate) = (comparison.Workload, comparison.Baseline, comparison.Candidate);
        // "priced as 1" only where a price was applied: a side without hardware has no cost to have assumed a count for.
        string Count(WorkloadEstimate e) => !e.AcceleratorCountAssumed ? string.Create(inv, $"{e.AcceleratorCount} accelerator(s)") : e.TotalDollarCostUsd is null && e.TotalEnergyJoules is null ? "GPU count not recorded" : "GPU count not recorded: priced as 1";
        output.WriteLine(string.Create(inv, $"B = {candidate.ConfigurationName} ({Count(candidate)}) vs A = {baseline.ConfigurationName} ({Count(baseline)}), workload '{workload.Name}' ({workload.Count:N0} queries)"));
        output.WriteLine();
        var rows = new List<string[]>
        {
            Row("speedup (A time / B time)", comparison.SpeedupSummary),
        };
        if (comparison.CostRatioSummary is { } costs)
        {
            rows.Add(Row("cost ratio (B cost / A cost)", costs));
        }

        TextTable.Write(output, ["per query", "mean", "median", "min", "max"], rows);
        output.WriteLine();
        output.WriteLine(string.Create(inv, $"total runtime: A {baseline.TotalRuntimeSeconds:F1} s, B {candidate.TotalRuntimeSeconds:F1} s, speedup {comparison.TotalSpeedup:F3}x"));
        if (comparison.TotalCostRatio is { } cost)
        {
            output.WriteLine(string.Create(inv, $"total idealized cost: A ${baseline.TotalDollarCostUsd:F4}, B ${candidate.TotalDollarCostUsd:F4}, ratio {cost:F3}"));
        }
        else
        {
            output.WriteLine("total idealized cost: unknown for a configuration without hardware (pass --accelerator-a / --accelerator-b)");
        }

        if (comparison.TotalEnergyRatio is { } energy)
        {
            output.WriteLine(string.Create(inv, $"total idealized energy: A {baseline.TotalEnergyKilowattHours:F4} kWh, B {candidate.TotalEnergyKilowattHours:F4} kWh, ratio {energy:F3}"));
        }

        output.WriteLine(comparison.Verdict);
    }

    private static string[] Row(string name, RatioSummary summary)
    {
        var inv = CultureInfo.InvariantCulture;
        return [name, summary.Mean.ToString("F3", inv), summary.Median.ToString("F3", inv), summary.Minimum.ToString("F3", inv), summary.Maximum.ToString("F3", inv)];
    }
}
