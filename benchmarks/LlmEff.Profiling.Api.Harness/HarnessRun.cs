using System.Globalization;
using LlmEff.Core;
using LlmEff.Core.Serialization;

namespace LlmEff.Profiling.Api.Harness;

/// <summary>The harness's run: the paper's grid (denoised fit, Figures 5 and 7a) and a load study (Figure 6), journals and a summary in the output folder.</summary>
internal static class HarnessRun
{
    public static async Task<int> ProfileAsync(string baseUrl, string modelName, string outPath, string encoding, int trials, int maxConcurrency, bool noKey)
    {
        var inv = CultureInfo.InvariantCulture;
        var outDir = Directory.CreateDirectory(outPath).FullName;
        using var cts = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            cts.Cancel(); // finished requests stay journaled; rerunning resumes
        };

        using var endpoint = new OpenAiCompatibleEndpoint(new OpenAiEndpointOptions
        {
            BaseAddress = new Uri(baseUrl),
            Model = modelName,
            ApiKeyEnvironmentVariable = noKey ? null : "OPENAI_API_KEY",
            SendTokenIds = true,
            IgnoreEos = true,
            SendMinTokens = true,
        });
        var prompts = SyntheticPromptFactory.ForEncoding(encoding);
        var progress = new Progress<ApiProfilingProgress>(p =>
        {
            if (p.Finished % 25 == 0 || p.Finished == p.Total)
            {
                Console.WriteLine($"  {p.Finished}/{p.Total} (failed {p.Failed})");
            }
        });

        var grid = new ApiProfilingOptions { JournalPath = Path.Combine(outDir, "grid.jsonl"), Trials = trials, Stream = true };
        if (Environment.GetEnvironmentVariable("LLMEFF_HARNESS_QUICK") == "1")
        {
            grid = grid with { PromptTokens = [1, 256], OutputTokens = [1, 4] }; // a smoke test of the harness itself
        }
        Console.WriteLine($"Grid: {grid.PlannedRequests} requests against {endpoint.Description}");
        var gridRun = await new ApiProfiler(endpoint, prompts, grid).RunAsync(progress, cts.Token);
        var report = DenoisedRuntimeAnalysis.Analyze(gridRun.Records, new RuntimeFitOptions
        {
            Metadata = new RuntimeModelMetadata { ModelName = modelName, Source = $"LlmEff.Profiling.Api harness against {endpoint.Description}" },
        });
        RuntimeModelJson.Save(report.Model, Path.Combine(outDir, "denoised-model.json"));

        var load = ApiProfilingOptions.LoadStudy(Path.Combine(outDir, "load.jsonl"), maxConcurrency) with { Trials = Math.Max(3, trials / 2) };
        Console.WriteLine($"Load study: {load.PlannedRequests} requests at concurrency {string.Join(", ", load.ConcurrencyLevels)}");
        var loadRun = await new ApiProfiler(endpoint, prompts, load).RunAsync(progress, cts.Token);
        var points = LoadStudyAnalysis.Analyze(loadRun.Records);

        using var summary = new StringWriter(inv);
        summary.WriteLine($"endpoint: {endpoint.Description}; encoding {encoding}; {trials} trials; {gridRun.Records.Count} grid records, {gridRun.Failed} failed, {report.MismatchedSamples} count mismatches");
        summary.WriteLine($"denoised fit: g = {report.Model.PerOutputTokenSeconds * 1000:0.000} ms/token, R² = {report.Model.RSquared:0.00000}");
        summary.WriteLine("PE(p) ms: " + string.Join(", ", grid.PromptTokens.Select(p => $"{p}: {report.Model.PromptEncodingSeconds(p) * 1000:0.00}")));
        summary.WriteLine($"mean CV over configurations: {report.MeanCoefficientOfVariation:0.000}; max/min up to {report.Configurations.Max(c => c.MaximumOverMinimum):0.00}x");
        summary.WriteLine($"raw runs above the denoised prediction: {report.ShareAboveDenoised:P1}");
        summary.WriteLine($"streaming: median TTFT {report.MedianTimeToFirstTokenSeconds * 1000:0.00} ms, median inter-token gap {report.MedianInterTokenGapSeconds * 1000:0.000} ms");
        summary.WriteLine("load study (p = 512): o, concurrency, min s, median s, slowdown of min");
        foreach (var pt in points)
        {
            summary.WriteLine($"  {pt.OutputTokens}, {pt.Concurrency}, {pt.MinimumSeconds:0.0000}, {pt.MedianSeconds:0.0000}, {pt.SlowdownOfMinimum:0.00}x");
        }

        File.WriteAllText(Path.Combine(outDir, "summary.txt"), summary.ToString());
        Console.Write(summary.ToString());
        return 0;
    }
}
