using System.Diagnostics;
using System.Globalization;
using LlmEff.Core;
using LlmEff.Core.Architecture;
using LlmEff.Core.Evaluation;
using LlmEff.Core.Planning;
using static TorchSharp.torch;

namespace LlmEff.Profiling.Torch.Gpu;

/// <summary>
/// Adaptive profiling on the GPU against a dense grid measured in the same process: Llama-3-8B over the Megatron logs' 27
/// prompt sizes × 10 output lengths (two trials; the fit's estimator, the minimum, is each configuration's truth), then
/// adaptive plans of 20, 30 and 50 queries (two trials each) into their own samples files, each scored on every grid
/// configuration it did not measure, beside its own error estimate. The grid is also written in the logs' CSV format
/// (mean, standard deviation) so that <c>llmeff accuracy --data</c> and the accuracy harness can score any design on it.
/// </summary>
internal static class DenseGridBenchmark
{
    private static readonly int[] Prompts = [1, 16, 32, 64, 128, 192, 256, 320, 384, 428, 472, 512, 576, 640, 704, 768, 832, 896, 960, 1024, 1152, 1280, 1408, 1536, 1664, 1792, 1920];
    private static readonly int[] Outputs = [1, 2, 4, 8, 12, 16, 24, 32, 48, 64];
    private static readonly int[] Budgets = [20, 30, 50];

    public static Dictionary<string, object?> Run(Device device, bool smoke, string outDir)
    {
        var arch = smoke ? Architectures.Tiny : Architectures.Llama3_8B;
        int[] prompts = smoke ? [1, 4, 8, 12, 16, 24, 32] : Prompts;
        int[] outputs = smoke ? [1, 2, 4, 8] : Outputs;
        int[] budgets = smoke ? [8, 12] : Budgets;
        var options = new DecoderOptions { Precision = smoke ? ModelPrecision.Float32 : ModelPrecision.BFloat16 };
        var profiler = new TorchProfiler(new TorchProfilerOptions { Device = device.ToString(), Model = options, MeasureEnergy = false, PrefillGraphMaxTokens = PrefillGraphSetting.MaxTokens }, new ConsoleLogger<TorchProfiler>());
        var grid = new ProfilingPlan { PromptTokens = prompts, OutputTokens = outputs, Trials = 2, WarmupRuns = 1 };
        var r = new Dictionary<string, object?> { ["model"] = arch.Name, ["prompts"] = prompts, ["outputs"] = outputs };

        using var model = DecoderTransformer.Create(arch, options, device);
        using var decoder = new GreedyDecoder(model, grid.CapacityTokens, CudaGraphMode.Auto, GreedyDecoder.DefaultWindowTokens, prefillGraphMaxTokens: PrefillGraphSetting.MaxTokens);
        var clock = Stopwatch.StartNew();
        var dense = profiler.Run(decoder, grid, Path.Combine(outDir, "dense-samples.csv"));
        r["dense_seconds"] = clock.Elapsed.TotalSeconds;
        r["software"] = dense.Software;
        r["prefill_graph_max_tokens"] = decoder.PrefillGraphMaxTokens;
        r["captured_prefill_sizes"] = decoder.CapturedPrefillSizes.Order().ToArray();
        r["hardware"] = dense.Hardware;
        WriteGridCsv(dense.Samples, Path.Combine(outDir, "dense-grid.csv"));
        var truth = new ProfilingGrid(arch.Name, dense.Samples.GroupBy(s => (s.PromptTokens, s.OutputTokens)).Select(g => g.MinBy(s => s.RuntimeSeconds)!));
        var spread = dense.Samples.GroupBy(s => (s.PromptTokens, s.OutputTokens)).Select(g => (g.Max(s => s.RuntimeSeconds) - g.Min(s => s.RuntimeSeconds)) / g.Min(s => s.RuntimeSeconds)).Order().ToArray();
        r["trial_spread_median"] = Percentiles.Of(spread, 50);
        r["trial_spread_p90"] = Percentiles.Of(spread, 90);

        var runs = new List<object?>();
        foreach (var budget in budgets)
        {
            clock.Restart();
            var plan = grid with { AdaptiveBudget = budget };
            var profile = profiler.Run(decoder, plan, Path.Combine(outDir, $"adaptive{budget}-samples.csv"));
            var seconds = clock.Elapsed.TotalSeconds;
            var assessment = profile.Assess()!;
            var design = profile.Samples.GroupBy(s => (s.PromptTokens, s.OutputTokens)).Select(g => g.First()).ToList();
            var heldOut = truth.HeldOutError(assessment.Model, design);
            runs.Add(new Dictionary<string, object?>
            {
                ["budget"] = budget,
                ["profile_seconds"] = seconds,
                ["configurations"] = design.Count,
                ["g_seconds"] = assessment.Model.PerOutputTokenSeconds,
                ["decode"] = assessment.Model.Decode.ToString(),
                ["held_out_median"] = heldOut.Median,
                ["held_out_p90"] = heldOut.P90,
                ["held_out_max"] = heldOut.Max,
                ["estimate_median"] = assessment.EstimatedHeldOutError?.Median,
                ["estimate_p90"] = assessment.EstimatedHeldOutError?.P90,
                ["trial_noise_seconds"] = assessment.TrialNoiseSeconds,
                ["warnings"] = assessment.Model.Warnings.Select(w => w.ToString()).ToArray(),
            });
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"adaptive {budget}: {design.Count} configurations in {seconds:F1} s; held-out p90 {heldOut.P90:P2}, max {heldOut.Max:P2}; estimate p90 {assessment.EstimatedHeldOutError?.P90:P2}"));
        }

        r["adaptive"] = runs;
        return r;
    }

    // The Megatron logs' format: each configuration's mean runtime and the standard deviation of its trials.
    private static void WriteGridCsv(IReadOnlyList<ProfilingSample> samples, string path)
    {
        using var writer = new StreamWriter(path);
        writer.WriteLine("prompt_tokens,output_tokens,runtime_seconds,stddev_seconds");
        foreach (var g in samples.GroupBy(s => (s.PromptTokens, s.OutputTokens)).OrderBy(g => g.Key))
        {
            var mean = g.Average(s => s.RuntimeSeconds);
            var sd = g.Count() > 1 ? Math.Sqrt(g.Sum(s => (s.RuntimeSeconds - mean) * (s.RuntimeSeconds - mean)) / (g.Count() - 1)) : 0;
            writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{g.Key.PromptTokens},{g.Key.OutputTokens},{mean:R},{sd:R}"));
        }
    }
}
