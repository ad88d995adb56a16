using System.Text;
using System.Text.Json.Nodes;

namespace LlmEff.Profiling.Api.Tests.Import;

/// <summary>How a log's runs and phases are read: warm-up requests left out, runs appended to one file read one after another.</summary>
public sealed class BenchmarkLogRunStructureTests
{
    private static ImportedBenchmarkLog Import(BenchmarkLogFormat format, string text)
        => BenchmarkLogImport.Read(new MemoryStream(Encoding.UTF8.GetBytes(text)), format, $"log-{format}");

    private static JsonObject Metric(double value, string unit) => new() { ["value"] = value, ["unit"] = unit };

    // One AIPerf MetricRecordInfo line (docs/tutorials/working-with-profile-exports.md), with its metadata.benchmark_phase.
    private static string AiPerfRecord(string phase, int session, long startNs, double latencyMs, double ttftMs) => new JsonObject
    {
        ["metadata"] = new JsonObject
        {
            ["session_num"] = session,
            ["x_request_id"] = $"req-{session}",
            ["turn_index"] = 0,
            ["request_start_ns"] = startNs,
            ["request_end_ns"] = startNs + (long)(latencyMs * 1e6),
            ["benchmark_phase"] = phase,
            ["was_cancelled"] = false,
            ["cancellation_time_ns"] = null,
        },
        ["metrics"] = new JsonObject
        {
            ["input_sequence_length"] = Metric(512, "tokens"),
            ["time_to_first_token"] = Metric(ttftMs, "ms"),
            ["request_latency"] = Metric(latencyMs, "ms"),
            ["output_sequence_length"] = Metric(64, "tokens"),
        },
        ["error"] = null,
    }.ToJsonString();

    [Fact]
    public void AiPerf_WarmupRecords_AreLeftOutAndCounted()
    {
        // AIPerf writes its --warmup-request-count requests into profile_export.jsonl too, tagged benchmark_phase "warmup";
        // its own exporters keep "profiling" records only. A cold start's 9 s would otherwise enter the fit.
        const long t0 = 1_759_813_207_000_000_000;
        var text = AiPerfRecord("warmup", 0, t0, latencyMs: 9000, ttftMs: 7600) + "\n"
                 + AiPerfRecord("profiling", 1, t0 + 20_000_000_000, latencyMs: 1500, ttftMs: 240) + "\n";

        var log = Import(BenchmarkLogFormat.AiPerf, text);

        Assert.Equal(1.5, Assert.Single(log.Samples).RuntimeSeconds, 9);
        Assert.Equal(2, log.TotalRequests);
        var warmup = Assert.Single(log.Exclusions);
        Assert.Equal(BenchmarkExclusionReason.Warmup, warmup.Reason);
        Assert.Contains("warmup", warmup.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Vllm_AppendResultFile_ReadsEveryRun_OneAfterAnother()
    {
        // vllm bench serve --append-result (vllm/benchmarks/serve.py) appends each run's result to the same file, one JSON
        // object per line. Both runs here send their requests from the same clock origin, one at a time.
        var run = BenchmarkLogFixtures.Vllm(BenchmarkLogFixtures.Grid(), withLatencies: true);
        using var dir = new TempDirectory();
        var path = dir.File("vllm-sweep.json");
        File.WriteAllText(path, run + "\n" + run + "\n");

        Assert.Equal(BenchmarkLogFormat.Vllm, BenchmarkLogImport.Detect(path));
        var log = BenchmarkLogImport.Read(path);

        var n = BenchmarkLogFixtures.Grid().Count;
        Assert.Equal(2 * n, log.TotalRequests);
        Assert.Equal(2 * n, log.Samples.Count);
        Assert.Contains(log.Notes, note => note.Contains("2 runs appended", StringComparison.Ordinal));
        // The second run starts where the first ended, so no request of one overlaps one of the other: one at a time throughout.
        Assert.All(log.Samples, s => Assert.Equal(1, s.Concurrency));
    }

    [Fact]
    public void Vllm_OneResultOverSeveralLines_IsStillOneRun()
    {
        var run = JsonNode.Parse(BenchmarkLogFixtures.Vllm(BenchmarkLogFixtures.Grid(), withLatencies: true))!.ToJsonString(new() { WriteIndented = true });
        var log = Import(BenchmarkLogFormat.Vllm, run);
        Assert.Equal(BenchmarkLogFixtures.Grid().Count, log.TotalRequests);
        Assert.DoesNotContain(log.Notes, note => note.Contains("appended", StringComparison.Ordinal));
    }
}
