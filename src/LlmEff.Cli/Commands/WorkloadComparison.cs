using System.Globalization;
using System.Text.Json;
using LlmEff.Core;
using LlmEff.Core.Workloads;

namespace LlmEff.Cli.Commands;

/// <summary>Per-query and total comparison of a candidate configuration against a baseline over one workload.</summary>
internal sealed class WorkloadComparison
{
    private WorkloadComparison(Workload workload, WorkloadEstimate baseline, WorkloadEstimate candidate)
    {
        Workload = workload;
        Baseline = baseline;
        Candidate = candidate;
        Speedups = baseline.RuntimeSeconds.Zip(candidate.RuntimeSeconds, (x, y) => x / y).ToArray();
        CostRatios = baseline.DollarCostUsd is { } ca && candidate.DollarCostUsd is { } cb ? ca.Zip(cb, (x, y) => y / x).ToArray() : null;
    }

    public Workload Workload { get; }

    public WorkloadEstimate Baseline { get; }

    public WorkloadEstimate Candidate { get; }

    /// <summary>Per query, baseline runtime / candidate runtime: above 1 when the candidate is faster.</summary>
    public IReadOnlyList<double> Speedups { get; }

    /// <summary>Per query, candidate cost / baseline cost: below 1 when the candidate is cheaper; null when either cost is unknown.</summary>
    public IReadOnlyList<double>? CostRatios { get; }

    /// <summary>Total baseline runtime / total candidate runtime.</summary>
    public double TotalSpeedup => Baseline.TotalRuntimeSeconds / Candidate.TotalRuntimeSeconds;

    /// <summary>Total candidate cost / total baseline cost, when both are known.</summary>
    public double? TotalCostRatio => Candidate.TotalDollarCostUsd / Baseline.TotalDollarCostUsd;

    /// <summary>Total candidate energy / total baseline energy, when both are known.</summary>
    public double? TotalEnergyRatio => Candidate.TotalEnergyJoules / Baseline.TotalEnergyJoules;

    public static WorkloadComparison Compute(Workload workload, ServingConfiguration baseline, ServingConfiguration candidate)
        => new(workload, WorkloadEstimator.Estimate(workload, baseline), WorkloadEstimator.Estimate(workload, candidate));

    public void WriteSummary(TextWriter output)
    {
        var inv = CultureInfo.InvariantCulture;
        output.WriteLine(string.Create(inv, $"B = {Candidate.ConfigurationName} ({Candidate.AcceleratorCount} accelerator(s)) vs A = {Baseline.ConfigurationName} ({Baseline.AcceleratorCount} accelerator(s)), workload '{Workload.Name}' ({Workload.Count:N0} queries)"));
        output.WriteLine();
        var rows = new List<string[]>
        {
            Row("speedup (A time / B time)", Speedups),
        };
        if (CostRatios is not null)
        {
            rows.Add(Row("cost ratio (B cost / A cost)", CostRatios));
        }

        TextTable.Write(output, ["per query", "mean", "median", "min", "max"], rows);
        output.WriteLine();
        output.WriteLine(string.Create(inv, $"total runtime: A {Baseline.TotalRuntimeSeconds:F1} s, B {Candidate.TotalRuntimeSeconds:F1} s, speedup {TotalSpeedup:F3}x"));
        if (TotalCostRatio is { } cost)
        {
            output.WriteLine(string.Create(inv, $"total idealized cost: A ${Baseline.TotalDollarCostUsd:F4}, B ${Candidate.TotalDollarCostUsd:F4}, ratio {cost:F3}"));
        }
        else
        {
            output.WriteLine("total idealized cost: unknown for a configuration without hardware (pass --accelerator-a / --accelerator-b)");
        }

        if (TotalEnergyRatio is { } energy)
        {
            output.WriteLine(string.Create(inv, $"total idealized energy: A {Baseline.TotalEnergyKilowattHours:F4} kWh, B {Candidate.TotalEnergyKilowattHours:F4} kWh, ratio {energy:F3}"));
        }

        output.WriteLine(Verdict());
    }

    public void WriteJson(TextWriter output)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("workload", Workload.Name);
            w.WriteNumber("queries", Workload.Count);
            WriteSide(w, "a", Baseline);
            WriteSide(w, "b", Candidate);
            w.WriteStartObject("speedup");
            WriteStats(w, Speedups);
            w.WriteNumber("total", TotalSpeedup);
            w.WriteEndObject();
            if (CostRatios is not null)
            {
                w.WriteStartObject("cost_ratio");
                WriteStats(w, CostRatios);
                w.WriteNumber("total", TotalCostRatio!.Value);
                w.WriteEndObject();
            }

            if (TotalEnergyRatio is { } energy)
            {
                w.WriteNumber("energy_ratio_total", energy);
            }

            w.WriteStartArray("per_query");
            for (var i = 0; i < Workload.Count; i++)
            {
                w.WriteStartObject();
                w.WriteNumber("prompt_tokens", Workload.PromptTokens[i]);
                w.WriteNumber("output_tokens", Workload.OutputTokens[i]);
                w.WriteNumber("a_seconds", Baseline.RuntimeSeconds[i]);
                w.WriteNumber("b_seconds", Candidate.RuntimeSeconds[i]);
                w.WriteNumber("speedup", Speedups[i]);
                if (CostRatios is not null)
                {
                    w.WriteNumber("cost_ratio", CostRatios[i]);
                }

                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        output.WriteLine(System.Text.Encoding.UTF8.GetString(stream.ToArray()));
    }

    public void WritePerQueryCsv(string path)
    {
        var inv = CultureInfo.InvariantCulture;
        using var writer = new StreamWriter(path);
        writer.WriteLine("prompt_tokens,output_tokens,a_seconds,b_seconds,speedup,a_cost_usd,b_cost_usd,cost_ratio");
        for (var i = 0; i < Workload.Count; i++)
        {
            writer.WriteLine(string.Create(inv, $"{Workload.PromptTokens[i]},{Workload.OutputTokens[i]},{Baseline.RuntimeSeconds[i]:R},{Candidate.RuntimeSeconds[i]:R},{Speedups[i]:R},{Baseline.DollarCostUsd?[i]:R},{Candidate.DollarCostUsd?[i]:R},{CostRatios?[i]:R}"));
        }
    }

    private string Verdict()
    {
        // Within half a percent the two are reported as equally fast rather than flipping on rounding noise.
        if (Math.Abs(TotalSpeedup - 1) < 0.005 && (TotalCostRatio is null || Math.Abs(TotalCostRatio.Value - 1) < 0.005))
        {
            return "A and B are equally fast" + (TotalCostRatio is null ? string.Empty : " and equally expensive") + " on this workload.";
        }

        var faster = TotalSpeedup >= 1 ? "faster" : "slower";
        var cheaper = TotalCostRatio is { } c ? (c <= 1 ? " and cheaper" : " but more expensive") : string.Empty;
        if (TotalSpeedup < 1 && TotalCostRatio is > 1)
        {
            cheaper = " and more expensive";
        }
        else if (TotalSpeedup < 1 && TotalCostRatio is <= 1)
        {
            cheaper = " but cheaper";
        }

        return $"B is {faster}{cheaper} than A on this workload.";
    }

    private static string[] Row(string name, IReadOnlyList<double> values)
    {
        var inv = CultureInfo.InvariantCulture;
        return [name, values.Average().ToString("F3", inv), Percentiles.Median(values).ToString("F3", inv), values.Min().ToString("F3", inv), values.Max().ToString("F3", inv)];
    }

    private static void WriteSide(Utf8JsonWriter w, string name, WorkloadEstimate e)
    {
        w.WriteStartObject(name);
        w.WriteString("configuration", e.ConfigurationName);
        w.WriteNumber("accelerators", e.AcceleratorCount);
        w.WriteNumber("total_seconds", e.TotalRuntimeSeconds);
        if (e.TotalDollarCostUsd is { } cost)
        {
            w.WriteNumber("total_cost_usd", cost);
        }

        if (e.TotalEnergyJoules is { } energy)
        {
            w.WriteNumber("total_energy_joules", energy);
        }

        w.WriteEndObject();
    }

    private static void WriteStats(Utf8JsonWriter w, IReadOnlyList<double> values)
    {
        w.WriteNumber("mean", values.Average());
        w.WriteNumber("median", Percentiles.Median(values));
        w.WriteNumber("min", values.Min());
        w.WriteNumber("max", values.Max());
    }
}
