// Profiles an OpenAI-compatible server end to end: the paper's grid with trials (denoised fit, Figure 5 spread,
// Figure 7a share) and a load study (Figure 6). Usage:
//   harness <base-url> <model> <out-dir> [encoding=cl100k_base] [trials=5] [max-concurrency=8]
//   harness local-torch <out-dir> [trials=5] [max-concurrency=4]   (serves TinyDecoder on 127.0.0.1 and profiles it)
// The API key, if any, is read from OPENAI_API_KEY; set LLMEFF_NO_KEY=1 for servers without authentication.
using System.Globalization;
using LlmEff.Core;
using LlmEff.Core.Serialization;
using LlmEff.Profiling.Api.Analysis;
using LlmEff.Profiling.Api.Endpoints;
using LlmEff.Profiling.Api.Harness;
using LlmEff.Profiling.Api.Profiling;
using LlmEff.Profiling.Api.Prompts;

var inv = CultureInfo.InvariantCulture;
if (args.Length >= 2 && args[0] == "local-torch")
{
    TorchSharp.torch.set_num_threads(Environment.ProcessorCount);
    // cl100k ids reach 100,276, so the vocabulary covers them; 6 layers of width 512 keep a 2-core CPU busy but not for hours.
    using var model = new TinyDecoder(vocabulary: 100_352, hidden: 512, layers: 6, heads: 8, maxContext: 2048, seed: 0);
    Console.WriteLine($"TinyDecoder: {model.ParameterCount / 1e6:0.0} M parameters, TorchSharp CPU, {Environment.ProcessorCount} threads");
    foreach (var _ in model.Generate(Enumerable.Range(1, 1536).ToArray(), 2))
    {
    }

    await using var server = await LocalModelServer.StartAsync(model);
    return await Profile(server.BaseAddress.ToString(), "tiny-decoder-512x6", args[1], "cl100k_base",
        args.Length > 2 ? int.Parse(args[2], inv) : 5, args.Length > 3 ? int.Parse(args[3], inv) : 4, noKey: true);
}

if (args.Length < 3)
{
    Console.Error.WriteLine("usage: harness <base-url> <model> <out-dir> [encoding=cl100k_base] [trials=5] [max-concurrency=8]");
    return 2;
}

return await Profile(args[0], args[1], args[2], args.Length > 3 ? args[3] : "cl100k_base",
    args.Length > 4 ? int.Parse(args[4], inv) : 5, args.Length > 5 ? int.Parse(args[5], inv) : 8,
    noKey: Environment.GetEnvironmentVariable("LLMEFF_NO_KEY") == "1");

static async Task<int> Profile(string baseUrl, string modelName, string outPath, string encoding, int trials, int maxConcurrency, bool noKey)
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
