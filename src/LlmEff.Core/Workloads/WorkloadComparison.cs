using System.Globalization;
using System.Text.Json;

namespace LlmEff.Core.Workloads;

/// <summary>
/// Per-query and total comparison of a candidate configuration (B) against a baseline (A) over one workload (paper §5.3,
/// Figure 8): speedups, cost and energy ratios, and their summaries. Immutable; build it with <see cref="Compute"/>.
/// </summary>
public sealed record WorkloadComparison
{
    private WorkloadComparison(Workload workload, WorkloadEstimate baseline, WorkloadEstimate candidate)
    {
        Workload = workload;
        Baseline = baseline;
        Candidate = candidate;
        Speedups = baseline.RuntimeSeconds.Zip(candidate.RuntimeSeconds, (x, y) => x / y).ToArray();
        // A baseline that costs nothing (an accelerator priced at 0) gives no ratio: B/0 is no number a summary can hold.
        CostRatios = baseline.DollarCostUsd is { } ca && candidate.DollarCostUsd is { } cb && ca.All(x => x > 0) ? ca.Zip(cb, (x, y) => y / x).ToArray() : null;
        SpeedupSummary = RatioSummary.Of(Speedups);
        CostRatioSummary = CostRatios is null ? null : RatioSummary.Of(CostRatios);
    }

    /// <summary>The workload both configurations ran.</summary>
    public Workload Workload { get; }

    /// <summary>A: the baseline's estimate.</summary>
    public WorkloadEstimate Baseline { get; }

    /// <summary>B: the candidate's estimate.</summary>
    public WorkloadEstimate Candidate { get; }

    /// <summary>Per query, baseline runtime / candidate runtime: above 1 when the candidate is faster.</summary>
    public IReadOnlyList<double> Speedups { get; }

    /// <summary>Per query, candidate cost / baseline cost: below 1 when the candidate is cheaper; null when either cost is unknown or the baseline costs nothing.</summary>
    public IReadOnlyList<double>? CostRatios { get; }

    /// <summary>Mean, median, minimum and maximum of <see cref="Speedups"/>.</summary>
    public RatioSummary SpeedupSummary { get; }

    /// <summary>Mean, median, minimum and maximum of <see cref="CostRatios"/>; null when they are unknown.</summary>
    public RatioSummary? CostRatioSummary { get; }

    /// <summary>Total baseline runtime / total candidate runtime.</summary>
    public double TotalSpeedup => Baseline.TotalRuntimeSeconds / Candidate.TotalRuntimeSeconds;

    /// <summary>Total candidate cost / total baseline cost, when both are known and the baseline costs something.</summary>
    public double? TotalCostRatio => Baseline.TotalDollarCostUsd is > 0 ? Candidate.TotalDollarCostUsd / Baseline.TotalDollarCostUsd : null;

    /// <summary>Total candidate energy / total baseline energy, when both are known.</summary>
    public double? TotalEnergyRatio => Candidate.TotalEnergyJoules / Baseline.TotalEnergyJoules;

    /// <summary>Estimates <paramref name="workload"/> under both configurations and compares them.</summary>
    /// <param name="workload">The queries.</param>
    /// <param name="baseline">A, the configuration compared against.</param>
    /// <param name="candidate">B, the configuration compared.</param>
    public static WorkloadComparison Compute(Workload workload, ServingConfiguration baseline, ServingConfiguration candidate)
    {
        ArgumentNullException.ThrowIfNull(workload);
        ArgumentNullException.ThrowIfNull(baseline);
        ArgumentNullException.ThrowIfNull(candidate);
        return new(workload, WorkloadEstimator.Estimate(workload, baseline), WorkloadEstimator.Estimate(workload, candidate));
    }

    /// <summary>
    /// One sentence on the totals: whether B is faster, as fast or slower than A, and cheaper, as expensive or more expensive;
    /// within half a percent two totals count as equal rather than flipping on rounding noise.
    /// </summary>
    public string Verdict
    {
        get
        {
            // +1 where B is better (faster, cheaper), −1 worse, 0 within half a percent.
            static int Side(double ratioInFavourOfB) => Math.Abs(ratioInFavourOfB - 1) < 0.005 ? 0 : ratioInFavourOfB > 1 ? 1 : -1;
            var speed = Side(TotalSpeedup);
            int? cost = TotalCostRatio is { } c ? Side(1 / c) : null;
            if (speed == 0 && (cost ?? 0) == 0)
            {
                return "A and B are equally fast" + (cost is null ? string.Empty : " and equally expensive") + " on this workload.";
            }

            var time = speed switch { 1 => "faster than A", -1 => "slower than A", _ => "as fast as A" };
            if (cost is not { } side)
            {
                return $"B is {time} on this workload.";
            }

            var money = side switch { 1 => "cheaper", -1 => "more expensive", _ => "as expensive" };
            return $"B is {time} {((speed >= 0) == (side >= 0) ? "and" : "but")} {money} on this workload.";
        }
    }

    /// <summary>Writes the comparison as indented JSON: both sides' totals, the summaries, and every query.</summary>
    /// <param name="output">Where to write.</param>
    public void WriteJson(TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(output);
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("workload", Workload.Name);
            w.WriteNumber("queries", Workload.Count);
            WriteSide(w, "a", Baseline);
            WriteSide(w, "b", Candidate);
            w.WriteStartObject("speedup");
            WriteStats(w, SpeedupSummary);
            w.WriteNumber("total", TotalSpeedup);
            w.WriteEndObject();
            if (CostRatios is not null)
            {
                w.WriteStartObject("cost_ratio");
                WriteStats(w, CostRatioSummary!);
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

    /// <summary>Writes every query's runtimes, speedup, costs and cost ratio as CSV (empty cells where costs are unknown).</summary>
    /// <param name="path">The CSV file to create or overwrite.</param>
    public void WritePerQueryCsv(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var inv = CultureInfo.InvariantCulture;
        using var writer = new StreamWriter(path);
        writer.WriteLine("prompt_tokens,output_tokens,a_seconds,b_seconds,speedup,a_cost_usd,b_cost_usd,cost_ratio");
        for (var i = 0; i < Workload.Count; i++)
        {
            writer.WriteLine(string.Create(inv, $"{Workload.PromptTokens[i]},{Workload.OutputTokens[i]},{Baseline.RuntimeSeconds[i]:R},{Candidate.RuntimeSeconds[i]:R},{Speedups[i]:R},{Baseline.DollarCostUsd?[i]:R},{Candidate.DollarCostUsd?[i]:R},{CostRatios?[i]:R}"));
        }
    }

    private static void WriteSide(Utf8JsonWriter w, string name, WorkloadEstimate e)
    {
        w.WriteStartObject(name);
        w.WriteString("configuration", e.ConfigurationName);
        w.WriteNumber("accelerators", e.AcceleratorCount);
        if (e.AcceleratorCountAssumed)
        {
            // The count is the default 1, not a recorded one: said, as estimate --json says it.
            w.WriteBoolean("accelerators_assumed", true);
        }

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

    private static void WriteStats(Utf8JsonWriter w, RatioSummary values)
    {
        w.WriteNumber("mean", values.Mean);
        w.WriteNumber("median", values.Median);
        w.WriteNumber("min", values.Minimum);
        w.WriteNumber("max", values.Maximum);
    }
}
