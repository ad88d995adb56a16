using System.Text.Json;
using LlmEff.Core.Energy;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Time.Testing;

namespace LlmEff.Extensions.AI.Tests;

public sealed class EfficiencyMetricsChatClientTests
{
    private static readonly ChatMessage[] Prompt = [new(ChatRole.User, "hello")];

    [Fact]
    public async Task Non_streaming_response_carries_the_metrics_and_adds_to_the_totals()
    {
        var clock = new FakeTimeProvider();
        using var inner = new FakeChatClient { Delay = TimeSpan.FromMilliseconds(20), Clock = clock };
        var options = Expected.Options();
        options.TimeProvider = clock;
        using var client = new ChatClientBuilder(inner).UseLlmEffMetrics(options).Build();

        var response = await client.GetResponseAsync(Prompt, cancellationToken: TestContext.Current.CancellationToken);

        var m = response.GetEfficiencyMetrics();
        Assert.NotNull(m);
        Assert.Equal(TokenUsageStatus.Reported, m.UsageStatus);
        Assert.False(m.Streamed);
        Assert.Null(m.TimeToFirstUpdateSeconds);
        Assert.Equal(0.020, m.RawRuntimeSeconds, 12); // the inner client's 20 ms, on the injected clock
        Assert.Equal(Expected.Idealized512x10Seconds, m.IdealizedRuntimeSeconds!.Value, Expected.Tolerance);
        Assert.Equal(Expected.Denoised512x10Seconds, m.DenoisedRuntimeSeconds!.Value, Expected.Tolerance);
        Assert.Equal(Expected.CostUsd(Expected.Idealized512x10Seconds), m.IdealizedCostUsd!.Value, Expected.Tolerance);
        Assert.Equal(Expected.Idealized512x10Seconds, (double)response.AdditionalProperties![EfficiencyMetricsPropertyNames.IdealizedRuntimeSeconds]!, Expected.Tolerance);

        var totals = client.GetService<EfficiencyMetricsAccumulator>()!.Snapshot();
        Assert.Equal(1, totals.RequestCount);
        Assert.Equal(m.RawRuntimeSeconds, totals.TotalRawRuntimeSeconds);
        Assert.Equal(Expected.Idealized512x10Seconds, totals.TotalIdealizedRuntimeSeconds!.Value, Expected.Tolerance);
        Assert.Same(client.GetService<EfficiencyMetricsChatClient>()!.Accumulator, client.GetService<EfficiencyMetricsAccumulator>());
    }

    [Fact]
    public async Task Measured_energy_is_attached_to_the_response_when_an_energy_model_is_set()
    {
        using var inner = new FakeChatClient();
        var options = Expected.Options();
        options.Energy = EnergyModel.Create([new(1, 10.0), new(512, 40.0)], 3.0);
        using var client = new ChatClientBuilder(inner).UseLlmEffMetrics(options).Build();

        var response = await client.GetResponseAsync(Prompt, cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(40 + (9 * 3.0), response.GetEfficiencyMetrics()!.MeasuredEnergyJoules!.Value, 1e-12);
        Assert.Equal(40 + (9 * 3.0), (double)response.AdditionalProperties![EfficiencyMetricsPropertyNames.MeasuredEnergyJoules]!, 1e-12);
    }

    [Fact]
    public async Task Streaming_final_update_carries_the_metrics_and_merges_into_the_response()
    {
        var clock = new FakeTimeProvider();
        using var inner = new FakeChatClient { PromptTokens = 512, OutputTokens = 10, Delay = TimeSpan.FromMilliseconds(2), Clock = clock };
        var options = Expected.Options();
        options.TimeProvider = clock;
        using var client = new EfficiencyMetricsChatClient(inner, options);

        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in client.GetStreamingResponseAsync(Prompt, cancellationToken: TestContext.Current.CancellationToken))
        {
            updates.Add(update);
        }

        Assert.Equal(10 + 1 + 1, updates.Count); // 10 tokens, the usage update, the metrics update
        Assert.All(updates.SkipLast(1), u => Assert.Null(u.GetEfficiencyMetrics()));
        var m = updates[^1].GetEfficiencyMetrics();
        Assert.NotNull(m);
        Assert.True(m.Streamed);
        Assert.Equal(512, m.PromptTokens);
        Assert.Equal(10, m.OutputTokens);
        Assert.Equal(Expected.Idealized512x10Seconds, m.IdealizedRuntimeSeconds!.Value, Expected.Tolerance);
        Assert.Equal(0.002, m.TimeToFirstUpdateSeconds!.Value, 12); // one token's 2 ms
        Assert.Equal(0.020, m.RawRuntimeSeconds, 12); // ten of them

        var response = updates.ToChatResponse();
        Assert.Equal(m, response.GetEfficiencyMetrics());
        Assert.Equal("x x x x x x x x x x ", response.Text);
        Assert.Single(response.Messages);
        Assert.Equal(1, client.Totals.RequestCount);
    }

    [Fact]
    public async Task Missing_usage_is_recorded_as_missing_on_both_paths()
    {
        using var inner = new FakeChatClient { ReportUsage = false };
        using var client = new EfficiencyMetricsChatClient(inner, Expected.Options());

        var response = await client.GetResponseAsync(Prompt, cancellationToken: TestContext.Current.CancellationToken);
        var streamed = await client.GetStreamingResponseAsync(Prompt, cancellationToken: TestContext.Current.CancellationToken).ToChatResponseAsync(TestContext.Current.CancellationToken);

        foreach (var m in new[] { response.GetEfficiencyMetrics()!, streamed.GetEfficiencyMetrics()! })
        {
            Assert.Equal(TokenUsageStatus.Missing, m.UsageStatus);
            Assert.Null(m.IdealizedRuntimeSeconds);
            Assert.Null(m.IdealizedCostUsd);
            Assert.Equal(nameof(TokenUsageStatus.Missing), response.AdditionalProperties![EfficiencyMetricsPropertyNames.UsageStatus]);
            Assert.False(response.AdditionalProperties.ContainsKey(EfficiencyMetricsPropertyNames.IdealizedRuntimeSeconds));
        }

        var totals = client.Totals;
        Assert.Equal(2, totals.RequestCount);
        Assert.Equal(0, totals.RequestsWithUsage);
        Assert.Equal(2, totals.RequestsWithoutUsage);
        Assert.Null(totals.TotalIdealizedRuntimeSeconds);
        Assert.Null(totals.TotalIdealizedCostUsd);
        Assert.Null(totals.MeanIdealizedRuntimeSeconds);
        Assert.True(totals.TotalRawRuntimeSeconds > 0);
    }

    [Fact]
    public async Task Fifty_parallel_calls_total_exactly()
    {
        // Call k reports p = 512, o = 1 + k % 20, except every 10th call, which reports no usage.
        using var inner = new FakeChatClient
        {
            Delay = TimeSpan.FromMilliseconds(5),
            UsageFor = k => k % 10 == 9 ? null : new UsageDetails { InputTokenCount = 512, OutputTokenCount = 1 + (k % 20) },
        };
        var shared = new EfficiencyMetricsAccumulator();
        using var client = new EfficiencyMetricsChatClient(inner, Expected.Options(shared));

        var responses = await Task.WhenAll(Enumerable.Range(0, 50).Select(i => i % 2 == 0
            ? client.GetResponseAsync(Prompt, cancellationToken: TestContext.Current.CancellationToken)
            : client.GetStreamingResponseAsync(Prompt, cancellationToken: TestContext.Current.CancellationToken).ToChatResponseAsync(TestContext.Current.CancellationToken)));

        var expectedOutput = Enumerable.Range(0, 50).Where(k => k % 10 != 9).Sum(k => 1 + (k % 20));
        var expectedIdealized = Enumerable.Range(0, 50).Where(k => k % 10 != 9).Sum(k => 0.178 + (k % 20 * 0.081)); // Table 3 davinci
        var metrics = responses.Select(r => r.GetEfficiencyMetrics()!).ToArray();
        var totals = shared.Snapshot();
        Assert.Equal(50, totals.RequestCount);
        Assert.Equal(45, totals.RequestsWithUsage);
        Assert.Equal(5, totals.RequestsWithoutUsage);
        Assert.Equal(0, totals.FailedRequests);
        Assert.Equal(45 * 512, totals.TotalPromptTokens);
        Assert.Equal(expectedOutput, totals.TotalOutputTokens);
        Assert.Equal(expectedIdealized, totals.TotalIdealizedRuntimeSeconds!.Value, 1e-9);
        Assert.Equal(Expected.CostUsd(expectedIdealized), totals.TotalIdealizedCostUsd!.Value, 1e-9);
        Assert.Equal(Expected.EnergyJoules(expectedIdealized), totals.TotalIdealizedEnergyJoules!.Value, 1e-6);
        Assert.Equal(metrics.Sum(m => m.RawRuntimeSeconds), totals.TotalRawRuntimeSeconds, 1e-9);
        Assert.Equal(5, metrics.Count(m => m.UsageStatus == TokenUsageStatus.Missing));
    }

    [Fact]
    public async Task Zero_output_tokens_is_counted_as_non_generating()
    {
        using var inner = new FakeChatClient { PromptTokens = 1024, OutputTokens = 0 };
        using var client = new EfficiencyMetricsChatClient(inner, Expected.Options());

        var m = (await client.GetResponseAsync(Prompt, cancellationToken: TestContext.Current.CancellationToken)).GetEfficiencyMetrics()!;

        Assert.Equal(TokenUsageStatus.NoOutputTokens, m.UsageStatus);
        Assert.Equal(0.323, m.IdealizedRuntimeSeconds!.Value, Expected.Tolerance); // Table 3 davinci PE(1024)
        Assert.Equal(1, client.Totals.NonGeneratingRequests);
        Assert.Equal(1, client.Totals.RequestsWithUsage);
    }

    [Fact]
    public async Task Inner_failures_are_counted_and_rethrown_on_both_paths()
    {
        using var inner = new FakeChatClient { Throw = new HttpRequestException("boom") };
        using var client = new EfficiencyMetricsChatClient(inner, Expected.Options());

        await Assert.ThrowsAsync<HttpRequestException>(() => client.GetResponseAsync(Prompt, cancellationToken: TestContext.Current.CancellationToken));
        await Assert.ThrowsAsync<HttpRequestException>(() => client.GetStreamingResponseAsync(Prompt, cancellationToken: TestContext.Current.CancellationToken).ToChatResponseAsync(TestContext.Current.CancellationToken));

        Assert.Equal(2, client.Totals.FailedRequests);
        Assert.Equal(0, client.Totals.RequestCount);
    }

    [Fact]
    public async Task Two_clients_share_one_accumulator_and_reset_clears_it()
    {
        var shared = new EfficiencyMetricsAccumulator();
        using var a = new EfficiencyMetricsChatClient(new FakeChatClient(), Expected.Options(shared));
        using var b = new ChatClientBuilder(new FakeChatClient()).UseLlmEffMetrics(Expected.Idealized, o => o.Accumulator = shared).Build();

        await a.GetResponseAsync(Prompt, cancellationToken: TestContext.Current.CancellationToken);
        await b.GetResponseAsync(Prompt, cancellationToken: TestContext.Current.CancellationToken);

        var totals = shared.Snapshot();
        Assert.Equal(2, totals.RequestCount);
        Assert.Equal(2 * Expected.Idealized512x10Seconds, totals.TotalIdealizedRuntimeSeconds!.Value, Expected.Tolerance);
        Assert.Equal(Expected.Denoised512x10Seconds, totals.TotalDenoisedRuntimeSeconds!.Value, Expected.Tolerance); // only a has a denoised profile
        shared.Reset();
        Assert.Equal(0, shared.Snapshot().RequestCount);
        Assert.Null(shared.Snapshot().TotalIdealizedRuntimeSeconds);
    }

    [Fact]
    public async Task Metrics_survive_a_json_round_trip_of_the_response()
    {
        using var client = new EfficiencyMetricsChatClient(new FakeChatClient(), Expected.Options());
        var response = await client.GetResponseAsync(Prompt, cancellationToken: TestContext.Current.CancellationToken);

        var json = JsonSerializer.Serialize(response, AIJsonUtilities.DefaultOptions);
        var back = JsonSerializer.Deserialize<ChatResponse>(json, AIJsonUtilities.DefaultOptions)!;

        Assert.Equal(response.GetEfficiencyMetrics(), back.GetEfficiencyMetrics());
    }

    [Fact]
    public void Builder_validates_options_when_configured()
    {
        var builder = new ChatClientBuilder(new FakeChatClient());
        var ex = Assert.Throws<ArgumentException>(() => builder.UseLlmEffMetrics(new EfficiencyMetricsOptions()));
        Assert.Contains("IdealizedRuntime is null", ex.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentNullException>(() => builder.UseLlmEffMetrics((EfficiencyMetricsOptions)null!));
    }

    [Fact]
    public void A_response_without_metrics_reads_as_null_and_a_corrupt_value_throws()
    {
        var plain = new ChatResponse(new ChatMessage(ChatRole.Assistant, "hi"));
        Assert.Null(plain.GetEfficiencyMetrics());

        plain.AdditionalProperties = new() { [EfficiencyMetricsPropertyNames.RawRuntimeSeconds] = 1.0, [EfficiencyMetricsPropertyNames.UsageStatus] = "Sideways" };
        var ex = Assert.Throws<InvalidDataException>(() => plain.GetEfficiencyMetrics());
        Assert.Contains("Sideways", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pricing_defaults_reach_the_response_and_the_pipelines_log()
    {
        using var inner = new FakeChatClient();
        var logger = new ListLogger();
        var services = new LoggerServices(logger);
        var bare = LlmEff.Core.RuntimeModel.Create([(512, 0.1), (1024, 0.2)], 0.01);
        using var client = new ChatClientBuilder(inner).UseLlmEffMetrics(bare).Build(services);

        var response = await client.GetResponseAsync(Prompt, cancellationToken: TestContext.Current.CancellationToken);

        var m = response.GetEfficiencyMetrics()!;
        Assert.Contains("accelerator A100-80GB", m.PricingDefaults, StringComparison.Ordinal);
        Assert.Equal(m.PricingDefaults, (string)response.AdditionalProperties![EfficiencyMetricsPropertyNames.PricingDefaults]!);
        Assert.Contains(logger.Messages, l => l.Contains("accelerator A100-80GB", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_pipelines_logger_is_added_to_a_copy_that_keeps_every_other_setting()
    {
        // The copy made to add the pipeline's logger once left the energy model and the clock behind.
        var clock = new FakeTimeProvider();
        using var inner = new FakeChatClient { Delay = TimeSpan.FromMilliseconds(7), Clock = clock };
        var options = Expected.Options();
        options.Energy = EnergyModel.Create([new(1, 10.0), new(512, 40.0)], 3.0);
        options.TimeProvider = clock;
        var logger = new ListLogger();
        using var client = new ChatClientBuilder(inner).UseLlmEffMetrics(options).Build(new LoggerServices(logger));

        var m = (await client.GetResponseAsync(Prompt, cancellationToken: TestContext.Current.CancellationToken)).GetEfficiencyMetrics()!;

        Assert.Equal(40 + (9 * 3.0), m.MeasuredEnergyJoules!.Value, 1e-12);
        Assert.Equal(0.007, m.RawRuntimeSeconds, 12);
        Assert.Equal(Expected.Denoised512x10Seconds, m.DenoisedRuntimeSeconds!.Value, Expected.Tolerance);
        Assert.Null(options.Logger); // the caller's options are left as they were
    }

    [Fact]
    public void A_null_clock_is_refused_with_the_fix()
    {
        var options = Expected.Options();
        options.TimeProvider = null!;
        var ex = Assert.Throws<ArgumentException>(() => new ChatClientBuilder(new FakeChatClient()).UseLlmEffMetrics(options));
        Assert.Contains("TimeProvider", ex.Message, StringComparison.Ordinal);
        Assert.Contains("TimeProvider.System", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_call_whose_inner_client_throws_before_any_update_is_counted_as_failed_on_both_paths()
    {
        using var client = new EfficiencyMetricsChatClient(new RefusesAtOnce(), Expected.Options());

        await Assert.ThrowsAsync<NotSupportedException>(async () =>
        {
            await foreach (var _ in client.GetStreamingResponseAsync(Prompt, cancellationToken: TestContext.Current.CancellationToken))
            {
            }
        });
        await Assert.ThrowsAsync<NotSupportedException>(() => client.GetResponseAsync(Prompt, cancellationToken: TestContext.Current.CancellationToken));

        Assert.Equal(2, client.Totals.FailedRequests);
        Assert.Equal(0, client.Totals.RequestCount);
    }

    [Fact]
    public async Task Mean_denoised_runtime_is_over_the_requests_that_had_one()
    {
        // Two clients share the totals; only one has a denoised profile, and the other must not dilute its mean.
        var shared = new EfficiencyMetricsAccumulator();
        var withDenoised = Expected.Options(shared);
        var withoutDenoised = Expected.Options(shared);
        withoutDenoised.DenoisedRuntime = null;
        using var inner = new FakeChatClient();
        using var a = new EfficiencyMetricsChatClient(inner, withDenoised);
        using var b = new EfficiencyMetricsChatClient(inner, withoutDenoised);

        await a.GetResponseAsync(Prompt, cancellationToken: TestContext.Current.CancellationToken);
        await b.GetResponseAsync(Prompt, cancellationToken: TestContext.Current.CancellationToken);

        var totals = shared.Snapshot();
        Assert.Equal((2L, 1L), (totals.RequestsWithUsage, totals.RequestsWithDenoisedRuntime));
        Assert.Equal(Expected.Denoised512x10Seconds, totals.MeanDenoisedRuntimeSeconds!.Value, Expected.Tolerance);
        Assert.Null(new EfficiencyMetricsAccumulator().Snapshot().MeanDenoisedRuntimeSeconds);
    }

    // Refuses both calls from a plain method, before any enumeration: a client without streaming support does so.
    private sealed class RefusesAtOnce : IChatClient
    {
        public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
            => throw new NotSupportedException("no");

        public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
            => throw new NotSupportedException("streaming is not supported");

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }

    private sealed class LoggerServices(ListLogger logger) : IServiceProvider, Microsoft.Extensions.Logging.ILoggerFactory
    {
        public object? GetService(Type serviceType) => serviceType == typeof(Microsoft.Extensions.Logging.ILoggerFactory) ? this : null;

        public Microsoft.Extensions.Logging.ILogger CreateLogger(string categoryName) => logger;

        public void AddProvider(Microsoft.Extensions.Logging.ILoggerProvider provider)
        {
        }

        public void Dispose()
        {
        }
    }
}
