using System.Globalization;
using LlmEff.Core;
using LlmEff.Core.Evaluation;
using LlmEff.Core.Planning;

namespace LlmEff.Accuracy.Harness;

/// <summary>
/// A stopping rule for adaptive runs, measured before it is offered: after every query, once the noise of one measurement
/// has been read from a repeat, stop when the fit's own p90 estimate is at or below a target. Scored on the noisier
/// variants of each grid (repeats answered with fresh draws), with each grid's own p90 bar as the target: queries spent and
/// whether the real held-out p90 meets the bar, against spending the whole budget.
/// </summary>
internal static class EarlyStop
{
    public static void Run(string folder, int seeds, int budget)
    {
        // SCALE sets the target to that fraction of each grid's bar (default 1: the bar itself); the verdict stays against the bar.
        var targetShare = double.Parse(Environment.GetEnvironmentVariable("SCALE") ?? "1", CultureInfo.InvariantCulture);
        Console.WriteLine("| grid | variant | seed | bar p90 | stopped at | real p90 there | within bar | whole budget: real p90 | within bar |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|---|---:|---|");
        var stopped = new List<(string Variant, int Queries, bool Met, bool MetWhole)>();
        foreach (var file in Directory.GetFiles(folder, "*.csv").Order(StringComparer.Ordinal))
        {
            foreach (var (name, scale, lines) in new[] { ("×3, lines 1%", 3.0, 0.01), ("×6, lines 2%", 6.0, 0.02) })
            {
                for (var seed = 0; seed < seeds; seed++)
                {
                    var (grid, repeat) = NoisyGrid.FromCsvWithRepeats(file, new NoisyGridOptions { NoiseScale = scale, PromptLineResidual = lines, Seed = seed + 1 });
                    var target = AccuracyTarget.For(grid);
                    var measure = FreshRepeats.Measure(repeat);

                    // The shipped rule (AdaptiveProfilingPlanner.TargetP90), then the same run continued to the whole budget.
                    var planner = new AdaptiveProfilingPlanner(grid.PromptTokens, grid.OutputTokens) { TargetP90 = targetShare * target.P90Bar };
                    var early = planner.RunAsync(budget, measure).GetAwaiter().GetResult().ToList();
                    int? stopAt = early.Count < budget ? early.Count : null;
                    var atStop = stopAt is null ? (ErrorSummary?)null : grid.HeldOutError(RuntimeModel.Fit(early, AdaptiveProfilingPlanner.FitOptions with { KeepNonPhysicalFit = true }), early);
                    var samples = new AdaptiveProfilingPlanner(grid.PromptTokens, grid.OutputTokens).RunAsync(budget, measure, early).GetAwaiter().GetResult().ToList();
                    var whole = grid.HeldOutError(RuntimeModel.Fit(samples, AdaptiveProfilingPlanner.FitOptions with { KeepNonPhysicalFit = true }), samples);
                    var met = atStop is { } s ? s.P90 <= target.P90Bar : whole.P90 <= target.P90Bar;
                    stopped.Add((name, stopAt ?? budget, met, whole.P90 <= target.P90Bar));
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {Path.GetFileNameWithoutExtension(file)} | {name} | {seed} | {target.P90Bar:P2} | {(stopAt is { } q ? q.ToString(CultureInfo.InvariantCulture) : "–")} | {(atStop is { } a ? a.P90.ToString("P2", CultureInfo.InvariantCulture) : "–")} | {(met ? "yes" : "**no**")} | {whole.P90:P2} | {(whole.P90 <= target.P90Bar ? "yes" : "**no**")} |"));
                }
            }
        }

        Console.WriteLine();
        foreach (var g in stopped.GroupBy(s => s.Variant))
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{g.Key}: mean queries {g.Average(s => s.Queries):F1} of {budget}; within bar {g.Count(s => s.Met)} / {g.Count()} (whole budget {g.Count(s => s.MetWhole)} / {g.Count()})"));
        }
    }
}
