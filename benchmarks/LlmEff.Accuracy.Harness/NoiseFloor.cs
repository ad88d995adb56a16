using System.Globalization;
using LlmEff.Core;
using LlmEff.Core.Evaluation;
using LlmEff.Core.Planning;

namespace LlmEff.Accuracy.Harness;

/// <summary>
/// How close each noisy variant's bar sits to its own noise: the measured grid (the variant before its noise) used as the
/// prediction of the variant's held-out configurations gives the error a noise-free model would have. Where that is above
/// the bar, the bar asks a fit to beat the truth by predicting the noise.
/// </summary>
internal static class NoiseFloor
{
    public static void Run(string folder, int seeds, int budget)
    {
        Console.WriteLine("| grid | variant | seed | current p90 | p90 bar | measured grid as prediction, p90 | current p90 within p90 bar | noise-free p90 within p90 bar |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|---|---|");
        foreach (var file in Directory.GetFiles(folder, "*.csv").Order(StringComparer.Ordinal))
        {
            var measured = NoisyGrid.FromCsv(file, new NoisyGridOptions { NoiseScale = 1, MinimumStdDevSeconds = 0 });
            foreach (var (name, scale, lines) in new[] { ("×3, lines 1%", 3.0, 0.01), ("×6, lines 2%", 6.0, 0.02) })
            {
                for (var seed = 1; seed <= seeds; seed++)
                {
                    var grid = NoisyGrid.FromCsv(file, new NoisyGridOptions { NoiseScale = scale, PromptLineResidual = lines, Seed = seed });
                    var target = AccuracyTarget.For(grid);
                    var design = AccuracyStudy.AdaptiveDesign(grid, budget);
                    var model = RuntimeModel.Fit(design, AdaptiveProfilingPlanner.FitOptions with { KeepNonPhysicalFit = true });
                    var real = grid.HeldOutError(model, design);
                    var held = grid.Unmeasured(design).Select(c => grid.Measure(c.PromptTokens, c.OutputTokens));
                    var noiseFree = ErrorSummary.FromRelativeErrors(held.Select(s => (measured.Measure(s.PromptTokens, s.OutputTokens).RuntimeSeconds - s.RuntimeSeconds) / s.RuntimeSeconds));
                    Console.WriteLine(FormattableString.Invariant($"| {Path.GetFileNameWithoutExtension(file)} | {name} | {seed} | {real.P90:P2} | {target.P90Bar:P2} | {noiseFree.P90:P2} | {(real.P90 <= target.P90Bar ? "yes" : "**no**")} | {(noiseFree.P90 <= target.P90Bar ? "yes" : "**no**")} |"));
                }
            }
        }
    }
}
