using System.Globalization;
using LlmEff.Core;
using LlmEff.Core.Planning;

namespace LlmEff.Profiling.Api.LocalModel;

/// <summary>
/// Adaptive profiling against a real, noisy server. A dense grid is measured with five trials (trials outermost, so a slow
/// spell of the machine spreads over every configuration); the minimum of trials 2–4 is the reference. Designs are answered
/// from trials 0–1 only, so the reference is independent of what they measured: the paper's design (its prompt sizes × every
/// output length, minimum of two trials), the adaptive planner with two trials a query, and the default planner with one
/// request a query (its repeated anchors answered with trial 1). Each is scored on every configuration it did not measure
/// and set beside the fit's own estimate. Then adaptive runs go to the server itself through ApiProfiler (live, later in
/// time, so the machine's drift is in their error too).
/// </summary>
internal static class AdaptiveAccuracyRun
{
    private static readonly int[] Prompts = [1, 64, 128, 256, 384, 512, 768, 1024, 1280, 1536];
    private static readonly int[] Outputs = [1, 2, 4, 8, 16, 32, 64];
    private static readonly int[] PaperPrompts = [1, 256, 512, 1024, 1536];

    public static async Task<int> RunAsync(Uri baseAddress, string outPath, int[] budgets, CancellationToken cancellationToken)
    {
        var inv = CultureInfo.InvariantCulture;
        var outDir = Directory.CreateDirectory(outPath).FullName;
        using var endpoint = new OpenAiCompatibleEndpoint(new OpenAiEndpointOptions { BaseAddress = baseAddress, Model = "tiny-decoder-512x6", ApiKeyEnvironmentVariable = null, SendTokenIds = true, IgnoreEos = true });
        var prompts = SyntheticPromptFactory.ForEncoding("cl100k_base");

        var grid = new ApiProfilingOptions { JournalPath = Path.Combine(outDir, "dense-grid.jsonl"), PromptTokens = Prompts, OutputTokens = Outputs, Trials = 5 };
        Console.WriteLine($"dense grid: {grid.PlannedRequests} requests");
        var gridRun = await new ApiProfiler(endpoint, prompts, grid).RunAsync(cancellationToken: cancellationToken);
        var trials = gridRun.Records.Where(r => r.Status == ApiSampleStatus.Succeeded && r.RuntimeSeconds is > 0)
            .GroupBy(r => (r.PromptTokens, r.OutputTokens))
            .ToDictionary(g => g.Key, g => g.GroupBy(r => r.Trial).ToDictionary(t => t.Key, t => t.Last().RuntimeSeconds!.Value));
        var reference = trials.Where(t => Enumerable.Range(2, 3).All(t.Value.ContainsKey)).ToDictionary(t => t.Key, t => Enumerable.Range(2, 3).Min(k => t.Value[k]));
        var spread = trials.Values.Where(t => t.Count == 5).Select(t => (t.Values.Max() / t.Values.Min()) - 1).Order().ToArray();
        var firstPair = trials.Values.Where(t => t.ContainsKey(0) && t.ContainsKey(1)).Select(t => t[0] / t[1]).Order().ToArray();
        Console.WriteLine(string.Create(inv, $"reference: {reference.Count} configurations (minimum of trials 2-4); slowest / fastest of a configuration's 5 trials − 1: median {Percentiles.Of(spread, 50):P1}, p90 {Percentiles.Of(spread, 90):P1}; trial 0 / trial 1: median {Percentiles.Of(firstPair, 50):F3}"));

        Console.WriteLine("| design | queries | requests | held-out configurations | median | p90 | max | estimate median | estimate p90 | estimate p90 / real | trial noise (ms) |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        var paper = PaperPrompts.SelectMany(p => Outputs.SelectMany(o => new[] { Answer(p, o, 0), Answer(p, o, 1) })).ToList();
        Score("paper (§3.4), 2 trials a configuration", 35, paper, new RuntimeFitOptions());
        foreach (var budget in budgets)
        {
            var twoTrials = Replay(new AdaptiveProfilingPlanner(Prompts, Outputs) { RepeatedAnchors = 0 }, budget, twoTrials: true);
            Score(string.Create(inv, $"adaptive, 2 trials a query, replayed"), budget, twoTrials, AdaptiveProfilingPlanner.FitOptions);
            var single = Replay(new AdaptiveProfilingPlanner(Prompts, Outputs), budget, twoTrials: false);
            Score(string.Create(inv, $"adaptive, 1 request a query (2 repeated anchors), replayed"), budget, single, AdaptiveProfilingPlanner.FitOptions);
        }

        foreach (var budget in budgets)
        {
            var options = grid with { JournalPath = Path.Combine(outDir, $"adaptive-{budget}.jsonl"), Trials = 1, AdaptiveBudget = budget };
            var run = await new ApiProfiler(endpoint, prompts, options).RunAsync(cancellationToken: cancellationToken);
            Score("adaptive, 1 request a query, live", budget, run.Records.Select(r => r.ToProfilingSample()).OfType<ProfilingSample>().ToList(), AdaptiveProfilingPlanner.FitOptions);
        }

        return 0;

        ProfilingSample Answer(int p, int o, int trial) => new(p, o, trials[(p, o)][trial]) { Trial = trial };

        // The planner's queries answered from the grid: both first trials, or trial 0 and, for a repeated anchor, trial 1.
        List<ProfilingSample> Replay(AdaptiveProfilingPlanner planner, int budget, bool twoTrials)
        {
            var samples = new List<ProfilingSample>();
            planner.RunAsync(budget, (q, _) =>
            {
                var asked = samples.Count(s => s.PromptTokens == q.PromptTokens && s.OutputTokens == q.OutputTokens);
                if (twoTrials)
                {
                    samples.Add(Answer(q.PromptTokens, q.OutputTokens, 1));
                }

                var answer = Answer(q.PromptTokens, q.OutputTokens, twoTrials ? 0 : asked);
                samples.Add(answer);
                return ValueTask.FromResult(twoTrials ? answer with { RuntimeSeconds = Math.Min(answer.RuntimeSeconds, samples[^2].RuntimeSeconds) } : answer);
            }).GetAwaiter().GetResult();
            return samples;
        }

        void Score(string name, int queries, List<ProfilingSample> design, RuntimeFitOptions options)
        {
            options = options with { KeepNonPhysicalFit = true };
            var model = RuntimeModel.Fit(design, options);
            var report = RuntimeModel.CrossValidate(design, options);
            var measured = design.Select(s => (s.PromptTokens, s.OutputTokens)).ToHashSet();
            var held = reference.Keys.Where(k => !measured.Contains(k)).ToList();
            var estimate = report.EstimateHeldOutError(model, held);
            var errors = held.Select(k => Math.Abs((model.Predict(k.PromptTokens, k.OutputTokens) - reference[k]) / reference[k])).Order().ToArray();
            double median = Percentiles.Of(errors, 50), p90 = Percentiles.Of(errors, 90);
            var est = estimate is { } e ? string.Create(inv, $"{e.Median:P2} | {e.P90:P2} | {e.P90 / p90:F2}") : "– | – | –";
            Console.WriteLine(string.Create(inv, $"| {name} | {queries} | {design.Count} | {held.Count} | {median:P2} | {p90:P2} | {errors[^1]:P2} | {est} | {report.TrialNoiseSeconds * 1e3:F2} |"));
        }
    }
}
