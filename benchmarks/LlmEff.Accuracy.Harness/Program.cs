using System.Diagnostics;
using System.Globalization;
using LlmEff.Accuracy.Harness;
using LlmEff.Core;
using LlmEff.Core.Evaluation;
using LlmEff.Core.Planning;

// dotnet run -c Release --project benchmarks/LlmEff.Accuracy.Harness -- [grid folder] [seeds]   (ABLATE=1 adds the ablation rows, LATE=1 the late short-output checks, SHARES="0.1 0.12" the planner at those sweep shares, DUMP="grid,variant,seed,budget,planner" one design's errors taken apart)
// Scores adaptive profiling (this build's planner and fit, and the previous planner as baseline) at 30 and 50 queries on
// each measured grid and on seeded noisier variants of it, against the noise-relaxed bar of AccuracyTarget.
// ... -- noise-floor [grid folder] [seeds] [budget]: the held-out p90 of the measured grid itself used as the prediction of
// each noisy variant (a noise-free model's error), beside the current design's p90 and the bar.
if (args.Length > 0 && args[0] == "early-stop")
{
    // ... -- early-stop [grid folder] [seeds] [budget]: the stopping rule "noise read and estimate p90 at or below the bar" (SCALE=0.8: that share of the bar).
    EarlyStop.Run(args.Length > 1 ? args[1] : FindData()!, args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 3, args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 50);
    return;
}

if (args.Length > 0 && args[0] == "noise-floor")
{
    NoiseFloor.Run(args.Length > 1 ? args[1] : FindData()!, args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 3, args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 30);
    return;
}

var folder = args.Length > 0 ? args[0] : FindData() ?? throw new DirectoryNotFoundException("Pass the folder of grid CSVs (e.g. ../shared/data/megatron).");
var seeds = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 3;
(string Name, double Scale, double Lines)[] variants = [("measured", 1, 0), ("×3, lines 1%", 3, 0.01), ("×6, lines 2%", 6, 0.02)];
int[] budgets = [30, 50];
var clock = Stopwatch.StartNew();
var rows = new List<Row>();
foreach (var file in Directory.GetFiles(folder, "*.csv").Order(StringComparer.Ordinal))
{
    foreach (var (name, scale, lines) in variants)
    {
        for (var seed = 0; seed < (scale == 1 ? 1 : seeds); seed++)
        {
            var (grid, repeat) = scale == 1
                ? NoisyGrid.FromCsvWithRepeats(file, new NoisyGridOptions { NoiseScale = 1, MinimumStdDevSeconds = 0 })
                : NoisyGrid.FromCsvWithRepeats(file, new NoisyGridOptions { NoiseScale = scale, PromptLineResidual = lines, Seed = seed + 1 });
            var target = AccuracyTarget.For(grid);
            var oldTarget = FloorWithoutHinge(grid);
            foreach (var budget in budgets)
            {
                rows.Add(Score(grid, Path.GetFileNameWithoutExtension(file), name, seed, budget, oldTarget, "baseline", target, Baseline(grid, budget), BaselinePlanner.FitOptions));
                // The shipped planner, its repeated anchors answered with fresh draws of their noise (a grid would repeat its value).
                var currentDesign = Repeated(grid, repeat, budget, new AdaptiveProfilingPlanner(grid.PromptTokens, grid.OutputTokens).RepeatedAnchors);
                rows.Add(Score(grid, Path.GetFileNameWithoutExtension(file), name, seed, budget, oldTarget, "current", target, currentDesign, AdaptiveProfilingPlanner.FitOptions));
                rows.Add(Score(grid, Path.GetFileNameWithoutExtension(file), name, seed, budget, oldTarget, "current, no repeated anchors", target, AccuracyStudy.AdaptiveDesign(grid, budget), AdaptiveProfilingPlanner.FitOptions));
                // The same design fitted without the hinge decode model in DecodeModel.Auto (the fit before it was added).
                rows.Add(Score(grid, Path.GetFileNameWithoutExtension(file), name, seed, budget, oldTarget, "current, Auto without hinge", target, currentDesign, AdaptiveProfilingPlanner.FitOptions with { AutoConsidersHinge = false }));
                // The same planner with two short-output checks (the error estimate's trade: see AdaptiveProfilingPlanner.ShortOutputChecks).
                rows.Add(Score(grid, Path.GetFileNameWithoutExtension(file), name, seed, budget, oldTarget, "current, 2 short checks", target, Checked(grid, budget), AdaptiveProfilingPlanner.FitOptions));
                if (Environment.GetEnvironmentVariable("LATE") == "1")
                {
                    // Experiment (not kept, docs/benchmarks.md): the same checks taken late, once 40 or 44 configurations are measured.
                    foreach (var from in new[] { 40, 44 })
                    {
                        rows.Add(Score(grid, Path.GetFileNameWithoutExtension(file), name, seed, budget, oldTarget, FormattableString.Invariant($"current, 2 short checks from {from}"), target, LateChecks(grid, budget, from, 2), AdaptiveProfilingPlanner.FitOptions));
                    }
                }

                foreach (var rp in (Environment.GetEnvironmentVariable("REPEATS") ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries))
                {
                    var count = int.Parse(rp, CultureInfo.InvariantCulture);
                    var repeated = Repeated(grid, repeat, budget, count);
                    foreach (var agg in new[] { TrialAggregation.Mean, TrialAggregation.Minimum })
                    {
                        rows.Add(Score(grid, Path.GetFileNameWithoutExtension(file), name, seed, budget, oldTarget, FormattableString.Invariant($"{count} repeats, {agg}"), target, repeated, AdaptiveProfilingPlanner.FitOptions with { Aggregation = agg }));
                    }
                }

                foreach (var sh in (Environment.GetEnvironmentVariable("SHARES") ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries))
                {
                    var share = double.Parse(sh, CultureInfo.InvariantCulture);
                    rows.Add(Score(grid, Path.GetFileNameWithoutExtension(file), name, seed, budget, oldTarget, FormattableString.Invariant($"sweeps {share}"), target, Design(grid, budget, 0, share), AdaptiveProfilingPlanner.FitOptions));
                }

                if (Environment.GetEnvironmentVariable("ABLATE") == "1")
                {
                    // Ablations: the previous sweep share, the robust loss, and knot confirmation with the robust loss that pools it.
                    foreach (var (confirm, share, robust) in new[] { (0.0, 0.25, false), (0.0, 0.15, true), (0.1, 0.15, true) })
                    {
                        rows.Add(Score(grid, Path.GetFileNameWithoutExtension(file), name, seed, budget, oldTarget, FormattableString.Invariant($"confirm {confirm}, sweeps {share}, robust {robust}"), target, Design(grid, budget, confirm, share), AdaptiveProfilingPlanner.FitOptions with { RobustLoss = robust }));
                    }
                }
            }
        }
    }
}

Console.WriteLine("| grid | variant | seed | budget | planner | decode | queries | p90 | p90 bar | max | max bar | within bar | within bar, floor without hinge | estimate p90 / real | folds-only estimate p90 / real |");
Console.WriteLine("|---|---|---:|---:|---|---|---:|---:|---:|---:|---:|---|---|---:|---:|");
foreach (var r in rows)
{
    Console.WriteLine(FormattableString.Invariant($"| {r.Grid} | {r.Variant} | {r.Seed} | {r.Budget} | {r.Planner} | {r.Decode} | {r.Queries} | {r.HeldOut.P90:P2} | {r.Target.P90Bar:P2} | {r.HeldOut.Max:P2} | {r.Target.MaxBar:P2} | {(r.Met ? "yes" : "**no**")} | {(r.MetWithoutHingeFloor ? "yes" : "**no**")} | {Ratio(r.Estimate, r.HeldOut)} | {Ratio(r.FoldsEstimate, r.HeldOut)} |"));
}

Console.WriteLine();
Console.WriteLine("| variant | budget | planner | grids within bar | within bar, floor without hinge | estimate p90 within 2× of real | folds-only estimate within 2× | estimate with the knee fixed within 2× |");
Console.WriteLine("|---|---:|---|---:|---:|---:|---:|---:|");
foreach (var g in rows.GroupBy(r => (r.Variant, r.Budget, r.Planner)))
{
    var within2 = g.Count(r => r.Estimate is { } e && e.P90 / r.HeldOut.P90 is >= 0.5 and <= 2);
    var foldsWithin2 = g.Count(r => r.FoldsEstimate is { } e && e.P90 / r.HeldOut.P90 is >= 0.5 and <= 2);
    var kneeFixedWithin2 = g.Count(r => r.KneeFixedEstimate is { } e && e.P90 / r.HeldOut.P90 is >= 0.5 and <= 2);
    Console.WriteLine(FormattableString.Invariant($"| {g.Key.Variant} | {g.Key.Budget} | {g.Key.Planner} | {g.Count(r => r.Met)} / {g.Count()} | {g.Count(r => r.MetWithoutHingeFloor)} / {g.Count()} | {within2} / {g.Count()} | {foldsWithin2} / {g.Count()} | {kneeFixedWithin2} / {g.Count()} |"));
}

Console.WriteLine();
Console.WriteLine(FormattableString.Invariant($"{rows.Count} designs scored in {clock.Elapsed.TotalSeconds:F0} s on {Environment.ProcessorCount} cores, .NET {Environment.Version}."));

static List<ProfilingSample> Baseline(ProfilingGrid grid, int budget)
    => new BaselinePlanner(grid.PromptTokens, grid.OutputTokens)
        .RunAsync(budget, (q, _) => ValueTask.FromResult(grid.Measure(q.PromptTokens, q.OutputTokens)))
        .GetAwaiter().GetResult().ToList();

static List<ProfilingSample> Checked(ProfilingGrid grid, int budget)
    => new AdaptiveProfilingPlanner(grid.PromptTokens, grid.OutputTokens) { ShortOutputChecks = 2, RepeatedAnchors = 0 }
        .RunAsync(budget, (q, _) => ValueTask.FromResult(grid.Measure(q.PromptTokens, q.OutputTokens)))
        .GetAwaiter().GetResult().ToList();

// The shipped planner without checks up to `from` configurations, then the checks of ShortOutputChecks (the smallest, middle
// and largest prompt sizes at the second-smallest output length, in that order), then the shipped planner again up to the
// budget. The planner counts the checks as sweeps when it continues, as it does with ShortOutputChecks.
static List<ProfilingSample> LateChecks(ProfilingGrid grid, int budget, int from, int checks)
{
    ValueTask<ProfilingSample> Measure(ConfigurationQuery q, CancellationToken _) => ValueTask.FromResult(grid.Measure(q.PromptTokens, q.OutputTokens));
    var planner = new AdaptiveProfilingPlanner(grid.PromptTokens, grid.OutputTokens) { RepeatedAnchors = 0 };
    var samples = planner.RunAsync(Math.Min(from, budget), Measure).GetAwaiter().GetResult().ToList();
    int pMin = grid.PromptTokens.Min(), pMax = grid.PromptTokens.Max();
    var pMid = grid.PromptTokens.Order().MinBy(p => Math.Abs(p - ((pMin + pMax) / 2.0)));
    var o2 = grid.OutputTokens.Order().ElementAt(1);
    foreach (var p in new[] { pMin, pMid, pMax }.Distinct().Take(checks))
    {
        if (samples.Count < budget && !samples.Any(s => s.PromptTokens == p && s.OutputTokens == o2))
        {
            samples.Add(grid.Measure(p, o2));
        }
    }

    return planner.RunAsync(budget, Measure, samples).GetAwaiter().GetResult().ToList();
}

static List<ProfilingSample> Design(ProfilingGrid grid, int budget, double confirmShare, double decodeShare)
    => new AdaptiveProfilingPlanner(grid.PromptTokens, grid.OutputTokens) { ConfirmShare = confirmShare, DecodeShare = decodeShare, RepeatedAnchors = 0 }
        .RunAsync(budget, (q, _) => ValueTask.FromResult(grid.Measure(q.PromptTokens, q.OutputTokens)))
        .GetAwaiter().GetResult().ToList();

// The shipped planner with `count` repeated anchors, each repeat answered with a fresh draw of that configuration's noise.
static List<ProfilingSample> Repeated(ProfilingGrid grid, Func<int, int, int, double> repeat, int budget, int count)
{
    return new AdaptiveProfilingPlanner(grid.PromptTokens, grid.OutputTokens) { RepeatedAnchors = count }
        .RunAsync(budget, FreshRepeats.Measure(repeat)).GetAwaiter().GetResult().ToList();
}

static Row Score(ProfilingGrid grid, string file, string variant, int seed, int budget, AccuracyTarget oldTarget, string planner, AccuracyTarget target, List<ProfilingSample> design, RuntimeFitOptions options)
{
    options = options with { KeepNonPhysicalFit = true };
    var model = RuntimeModel.Fit(design, options);
    var heldOut = grid.HeldOutError(model, design);
    var report = RuntimeModel.CrossValidate(design, options);
    // The estimate with the runtimes' clock resolution, and the folds alone (the estimate before it) from the same report.
    var estimate = report.EstimateHeldOutError(model, grid.Unmeasured(design));
    var foldsEstimate = report.EstimateHeldOutError(grid.ShareAtUnprofiledPromptSizes(design));
    // The estimate as it was before the folds searched their own knee: the knee of the fit on all samples kept in every fold.
    var kneeFixed = model.Decode == DecodeModel.ContextHinge
        ? RuntimeModel.CrossValidate(design, options with { Decode = DecodeModel.ContextHinge, ContextKneeTokens = model.ContextKneeTokens }).EstimateHeldOutError(model, grid.Unmeasured(design))
        : estimate;
    if (DesignDump.Wanted(file, variant, seed, budget, planner))
    {
        DesignDump.Write(grid, design, model, report, estimate, heldOut);
    }

    return new Row(file, variant, seed, budget, planner, DecodeLabel(model), design.Count, heldOut, target, target.IsMetBy(heldOut), oldTarget.IsMetBy(heldOut), estimate, foldsEstimate) { KneeFixedEstimate = kneeFixed };
}

static string? FindData()
{
    for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
    {
        var candidate = Path.Combine(dir.FullName, "shared", "data", "megatron");
        if (Directory.Exists(candidate))
        {
            return candidate;
        }
    }

    return null;
}

static string Ratio(ErrorSummary? estimate, ErrorSummary heldOut)
    => estimate is { } e ? (e.P90 / heldOut.P90).ToString("F2", CultureInfo.InvariantCulture) : "–";

static string DecodeLabel(RuntimeModel model) => model.Decode switch
{
    DecodeModel.ContextHinge => FormattableString.Invariant($"hinge at {model.ContextKneeTokens}"),
    DecodeModel.ContextLinear => "linear",
    _ => "constant",
};


// AccuracyTarget.For with the floor's fits made without the hinge decode model: the bars before DecodeModel.ContextHinge
// (the hinge fits the whole grid better, so it lowers the floor and tightens the bar).
static AccuracyTarget FloorWithoutHinge(ProfilingGrid grid)
{
    RuntimeFitOptions[] options = [new RuntimeFitOptions(), AccuracyStudy.LlmEffFixedDesignOptions, AdaptiveProfilingPlanner.FitOptions];
    var all = grid.All().ToList();
    var fits = options.Select(o => ErrorSummary.Evaluate(RuntimeModel.Fit(all, o with { KeepNonPhysicalFit = true, AutoConsidersHinge = false }), all)).ToList();
    var floor = fits.MinBy(f => f.P90)! with { Max = fits.Min(f => f.Max) };
    return new AccuracyTarget(floor, Math.Max(AccuracyTarget.DefaultP90, 1.25 * floor.P90), Math.Max(AccuracyTarget.DefaultMax, 2 * floor.Max));
}

internal sealed record Row(string Grid, string Variant, int Seed, int Budget, string Planner, string Decode, int Queries, ErrorSummary HeldOut, AccuracyTarget Target, bool Met, bool MetWithoutHingeFloor, ErrorSummary? Estimate, ErrorSummary? FoldsEstimate)
{
    public ErrorSummary? KneeFixedEstimate { get; init; }
}
