namespace LlmEff.Profiling.Api;

/// <summary>The benchmark tools whose per-request logs <see cref="BenchmarkLogImport"/> reads.</summary>
public enum BenchmarkLogFormat
{
    /// <summary>
    /// vLLM's <c>vllm bench serve</c> (or the older <c>benchmarks/benchmark_serving.py</c>) result JSON saved with
    /// <c>--save-result --save-detailed</c>: per-request arrays <c>input_lens</c>, <c>output_lens</c>, <c>ttfts</c>,
    /// <c>itls</c>, <c>errors</c> and, in newer versions, <c>latencies</c> and <c>start_times</c> (seconds).
    /// </summary>
    Vllm,

    /// <summary>
    /// NVIDIA AIPerf's <c>profile_export.jsonl</c>: one record per request with <c>metadata</c>, <c>metrics</c>
    /// (each a value with its unit) and <c>error</c>.
    /// </summary>
    AiPerf,

    /// <summary>
    /// GenAI-Perf's <c>profile_export.json</c> as written by Perf Analyzer: <c>experiments[].requests[]</c> with
    /// nanosecond <c>timestamp</c>, <c>response_timestamps</c> and the raw request and response payloads.
    /// </summary>
    GenAiPerf,

    /// <summary>
    /// Ray llmperf's <c>*_individual_responses.json</c>: a list of per-request metrics (<c>ttft_s</c>,
    /// <c>end_to_end_latency_s</c>, <c>number_input_tokens</c>, <c>number_output_tokens</c>, <c>error_code</c>, ...).
    /// </summary>
    LlmPerf,

    /// <summary>
    /// GuideLLM's benchmarks report (<c>benchmarks.json</c>): <c>benchmarks[].requests</c> split into
    /// <c>successful</c>, <c>errored</c> and <c>incomplete</c> requests.
    /// </summary>
    GuideLlm,

    /// <summary>
    /// LlmEff's own per-request export, <c>llmeff profile api --export-requests FILE.json</c>
    /// (<see cref="LoadStudyExport.WriteRequests"/>): a JSON list with the columns of <see cref="LoadStudyExport.RequestColumns"/>.
    /// </summary>
    LlmEff,
}
