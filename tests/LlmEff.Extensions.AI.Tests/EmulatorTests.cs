using LlmEff.Profiling.Api.Tests.Emulator;
using Microsoft.Extensions.AI;

namespace LlmEff.Extensions.AI.Tests;

/// <summary>
/// End to end over real HTTP: the API profiler's OpenAI-compatible loopback emulator (compiled in from
/// tests/LlmEff.Profiling.Api.Tests unchanged) behind <see cref="OpenAiChatHttpClient"/> and <c>UseLlmEffMetrics</c>.
/// </summary>
public sealed class EmulatorTests
{
    private const int OutputTokens = 8;

    [Fact]
    public async Task Both_paths_report_the_servers_usage_and_a_raw_runtime_at_least_the_emulated_latency()
    {
        var latency = new EmulatedLatency();
        await using var emulator = await OpenAiEmulator.StartAsync(latency, seed: 7);
        using var http = new HttpClient { BaseAddress = emulator.BaseAddress };
        using var client = new ChatClientBuilder(new OpenAiChatHttpClient(http, "emulated-model"))
            .UseLlmEffMetrics(Expected.Idealized, o => o.DenoisedRuntime = Expected.Denoised)
            .Build();
        var options = new ChatOptions { MaxOutputTokens = OutputTokens };
        var ct = TestContext.Current.CancellationToken;

        var plain = await client.GetResponseAsync("Summarise the paper on inference efficiency metrics in one line.", options, ct);
        var streamed = await client.GetStreamingResponseAsync("Summarise the paper on inference efficiency metrics in one line.", options, ct).ToChatResponseAsync(ct);

        var requests = emulator.Requests;
        Assert.Equal(2, requests.Count);
        var p = requests[0].PromptTokens; // what the server counted (cl100k_base + chat template), reported as usage
        Assert.All(requests, r => Assert.Equal(p, r.PromptTokens));
        foreach (var (response, isStream) in new[] { (plain, false), (streamed, true) })
        {
            var m = response.GetEfficiencyMetrics();
            Assert.NotNull(m);
            Assert.Equal(isStream, m.Streamed);
            Assert.Equal(TokenUsageStatus.Reported, m.UsageStatus);
            Assert.Equal(p, m.PromptTokens);
            Assert.Equal(OutputTokens, m.OutputTokens);
            Assert.Equal(Expected.Idealized.Predict(p, OutputTokens), m.IdealizedRuntimeSeconds!.Value, Expected.Tolerance);
            Assert.Equal(Expected.Denoised.Predict(p, OutputTokens), m.DenoisedRuntimeSeconds!.Value, Expected.Tolerance);

            // The emulator waits at least overhead + PE(p) + (o - 1) g before the last token (its noise is >= 0).
            var floor = latency.DenoisedPromptSeconds(p) + ((OutputTokens - 1) * latency.PerOutputTokenSeconds);
            Assert.True(m.RawRuntimeSeconds >= floor, $"raw {m.RawRuntimeSeconds:F4} s < emulated floor {floor:F4} s");
        }

        var totals = client.GetService<EfficiencyMetricsAccumulator>()!.Snapshot();
        Assert.Equal(2, totals.RequestCount);
        Assert.Equal(2, totals.RequestsWithUsage);
        Assert.Equal(2 * OutputTokens, totals.TotalOutputTokens);
        Assert.Equal(2 * Expected.Idealized.Predict(p, OutputTokens), totals.TotalIdealizedRuntimeSeconds!.Value, Expected.Tolerance);
    }

    [Fact]
    public async Task A_stream_without_usage_is_recorded_as_missing()
    {
        await using var emulator = await OpenAiEmulator.StartAsync(new EmulatedLatency(), seed: 3);
        using var http = new HttpClient { BaseAddress = emulator.BaseAddress };
        using var client = new EfficiencyMetricsChatClient(new OpenAiChatHttpClient(http, "emulated-model") { IncludeStreamUsage = false }, Expected.Options());
        var ct = TestContext.Current.CancellationToken;

        var response = await client.GetStreamingResponseAsync("hello", new ChatOptions { MaxOutputTokens = 4 }, ct).ToChatResponseAsync(ct);

        Assert.Equal("xxxx", response.Text);
        var m = response.GetEfficiencyMetrics()!;
        Assert.Equal(TokenUsageStatus.Missing, m.UsageStatus);
        Assert.Null(m.IdealizedRuntimeSeconds);
        Assert.Equal(1, client.Totals.RequestsWithoutUsage);
    }
}
