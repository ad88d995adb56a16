using System.Globalization;
using LlmEff.Core;
using LlmEff.Core.Evaluation;

namespace LlmEff.Accuracy.Harness;

/// <summary>
/// One design's errors taken apart (DUMP="grid,variant,seed,budget,planner", e.g. "a100-gptj_6b,×3, lines 1%,7,30,current"):
/// which prompt sizes it profiled, its queries, its folds against the real held-out errors, and those by output length and
/// prompt size. Where the fit's own estimate and the real error part, this shows which configurations part them.
/// </summary>
internal static class DesignDump
{
    public static bool Wanted(string file, string variant, int seed, int budget, string planner)
        => Environment.GetEnvironmentVariable("DUMP") == string.Create(CultureInfo.InvariantCulture, $"{file},{variant},{seed},{budget},{planner}");

    public static void Write(ProfilingGrid grid, IReadOnlyList<ProfilingSample> design, RuntimeModel model, CrossValidationReport report, ErrorSummary? estimate, ErrorSummary heldOut)
    {
        var profiled = model.PromptSizeFits.Select(f => f.PromptTokens).ToHashSet();
        var used = design.Select(s => (s.PromptTokens, s.OutputTokens)).ToHashSet();
        var held = grid.All().Where(s => !used.Contains((s.PromptTokens, s.OutputTokens))).ToList();
        double Relative(ProfilingSample s) => (model.Predict(s.PromptTokens, s.OutputTokens) - s.RuntimeSeconds) / s.RuntimeSeconds;

        Console.WriteLine($"profiled p: {string.Join(",", profiled.Order())}; not profiled: {string.Join(",", grid.PromptTokens.Where(p => !profiled.Contains(p)))}");
        Console.WriteLine($"queries: {string.Join(" ", design.Select(s => $"({s.PromptTokens},{s.OutputTokens})"))}");
        Console.WriteLine($"folds: prompt sizes {Describe(report.PromptFoldErrors)}; configurations {Describe(report.ConfigurationFoldErrors)}; repeated configurations {report.RepeatedConfigurations}");
        Console.WriteLine($"real: at profiled p {Describe(held.Where(s => profiled.Contains(s.PromptTokens)).Select(Relative))}; elsewhere {Describe(held.Where(s => !profiled.Contains(s.PromptTokens)).Select(Relative))}");
        foreach (var g in held.Where(s => profiled.Contains(s.PromptTokens)).GroupBy(s => s.OutputTokens).OrderBy(g => g.Key))
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  o = {g.Key}, profiled p: {Describe(g.Select(Relative))}, signed mean {g.Average(Relative):P2}"));
        }

        foreach (var g in held.GroupBy(s => s.PromptTokens).OrderBy(g => g.Key))
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  p = {g.Key}{(profiled.Contains(g.Key) ? string.Empty : " (not profiled)")}: {Describe(g.Select(Relative))}, signed mean {g.Average(Relative):P2}"));
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"estimate p90 {estimate?.P90:P2}, real p90 {heldOut.P90:P2}; g = {model.PerOutputTokenSeconds * 1e3:F3} ms"));
    }

    private static string Describe(IEnumerable<double> errors)
    {
        var a = errors.Select(Math.Abs).Order().ToArray();
        return a.Length == 0 ? "none" : string.Create(CultureInfo.InvariantCulture, $"n = {a.Length}, p50 {Percentiles.Of(a, 50):P2}, p90 {Percentiles.Of(a, 90):P2}, max {a[^1]:P2}");
    }
}
