using System.Globalization;
using LlmEff.Profiling.Api;

namespace LlmEff.Profiling.Api.Harness;

/// <summary>
/// The harness's serving-style load study: concurrency levels (closed loop) or request rates (Poisson arrivals),
/// streamed, with per-request and per-level exports in the output folder.
/// </summary>
internal static class LoadStudyRun
{
    /// <param name="levels"><c>c:1,2,4,8,16</c> for concurrency levels or <c>r:0.5,1,2</c> for request rates.</param>
    public static async Task<int> RunAsync(string baseUrl, string modelName, string outPath, string levels, int requestsPerLevel, int promptTokens, int outputTokens, string encoding, bool noKey)
    {
        var inv = CultureInfo.InvariantCulture;
        var outDir = Directory.CreateDirectory(outPath).FullName;
        using var cts = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            cts.Cancel(); // finished levels stay journaled; rerunning resumes
        };

        var values = levels.Length > 2 ? levels[2..].Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries) : [];
        var options = new LoadStudyOptions
        {
            JournalPath = Path.Combine(outDir, "serving.jsonl"),
            PromptTokens = [promptTokens],
            OutputTokens = [outputTokens],
            ConcurrencyLevels = levels.StartsWith("c:", StringComparison.Ordinal) ? values.Select(v => int.Parse(v, inv)).ToArray() : null,
            RequestRates = levels.StartsWith("r:", StringComparison.Ordinal) ? values.Select(v => double.Parse(v, inv)).ToArray() : null,
            MaxRequestsPerLevel = requestsPerLevel,
            Duration = TimeSpan.FromMinutes(5),
        };
        using var endpoint = new OpenAiCompatibleEndpoint(new OpenAiEndpointOptions
        {
            BaseAddress = new Uri(baseUrl),
            Model = modelName,
            ApiKeyEnvironmentVariable = noKey ? null : "OPENAI_API_KEY",
            SendTokenIds = true,
        });
        Console.WriteLine($"Load study ({options.Mode}: {string.Join(", ", options.Levels)}), up to {requestsPerLevel} requests or 5 min per level, p = {promptTokens}, o = {outputTokens}, against {endpoint.Description}");
        var progress = new Progress<LoadStudyProgress>(p =>
        {
            if (p.Finished % 16 == 0 || p.Finished == requestsPerLevel)
            {
                Console.WriteLine($"  level {p.LevelIndex + 1}/{p.Levels} ({p.Load.ToString(inv)}): {p.Finished} requests, {p.Failed} failed");
            }
        });
        var result = await new LoadStudyProfiler(endpoint, SyntheticPromptFactory.ForEncoding(encoding), options).RunAsync(progress, cts.Token);
        var summary = LoadStudyAnalysis.Summarize(result.Records);
        LoadStudyExport.WriteRequests(result.Records, Path.Combine(outDir, "serving-requests.json"));
        LoadStudyExport.WriteRequests(result.Records, Path.Combine(outDir, "serving-requests.csv"));
        LoadStudyExport.WriteSummary(summary, null, Path.Combine(outDir, "serving-summary.json"));

        using var text = new StringWriter(inv);
        text.WriteLine($"endpoint: {endpoint.Description}; p = {promptTokens}, o = {outputTokens}; {result.LevelsRun} levels run, {result.LevelsResumed} resumed, {result.Failed} failed; min_tokens refused: {result.MinTokensRefused}");
        text.WriteLine("load, requests, failed, req/s, out tok/s, TTFT p50/p90/p99 ms, TPOT p50/p90/p99 ms, ITL p50 ms, E2E p50/p90/p99 s, length mismatches");
        foreach (var l in summary)
        {
            text.WriteLine(string.Create(inv, $"  {l.Load}, {l.Requests}, {l.Failed}, {l.RequestsPerSecond:0.00}, {l.OutputTokensPerSecond:0.0}, {Ms(l.TimeToFirstToken)}, {Ms(l.TimePerOutputToken)}, {(l.InterTokenLatency?.P50Seconds ?? double.NaN) * 1e3:0.00}, {S(l.EndToEnd)}, {l.OutputLengthMismatches}"));
        }

        File.WriteAllText(Path.Combine(outDir, "serving-summary.txt"), text.ToString());
        Console.Write(text.ToString());
        return 0;

        static string Ms(LatencyPercentiles? p) => p is null ? "-" : string.Create(CultureInfo.InvariantCulture, $"{p.P50Seconds * 1e3:0.0}/{p.P90Seconds * 1e3:0.0}/{p.P99Seconds * 1e3:0.0}");
        static string S(LatencyPercentiles? p) => p is null ? "-" : string.Create(CultureInfo.InvariantCulture, $"{p.P50Seconds:0.000}/{p.P90Seconds:0.000}/{p.P99Seconds:0.000}");
    }
}
