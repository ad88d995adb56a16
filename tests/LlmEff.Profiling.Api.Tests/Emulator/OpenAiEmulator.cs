using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace LlmEff.Profiling.Api.Tests.Emulator;

/// <summary>
/// An OpenAI-compatible server on 127.0.0.1 (Kestrel, random port) with a known latency model, seeded noise,
/// injected faults and SSE streaming; it records every request it receives.
/// </summary>
internal sealed class OpenAiEmulator : IAsyncDisposable
{
    private static readonly SyntheticPromptFactory Counter = SyntheticPromptFactory.ForEncoding("cl100k_base");
    private readonly WebApplication _app;
    private readonly EmulatedLatency _latency;
    private readonly Random _noise;
    private readonly ConcurrentQueue<ReceivedRequest> _received = new();
    private int _count;
    private int _inFlight;
    private int _refusedMinTokens;

    private OpenAiEmulator(WebApplication app, EmulatedLatency latency, int seed)
    {
        _app = app;
        _latency = latency;
        _noise = new Random(seed);
    }

    /// <summary>Maps a 0-based request number to the fault to inject, if any.</summary>
    public Func<int, EmulatedFault?>? Faults { get; set; }

    /// <summary>Called with the request number when a <see cref="EmulatedFaultKind.Hang"/> request has arrived and hangs.</summary>
    public Action<int>? OnHang { get; set; }

    /// <summary>The clock HTTP-date <c>Retry-After</c> headers are written against (the client's fake clock in tests).</summary>
    public TimeProvider Clock { get; set; } = TimeProvider.System;

    /// <summary>
    /// When set, the emulated latency is not slept but added to this clock, which the client times its requests on: one
    /// request at a time, the client then measures exactly the emulated runtimes, however busy the machine is. (Requests
    /// in flight together would move it for each other; leave it null for concurrency.)
    /// </summary>
    public FakeTimeProvider? VirtualClock { get; set; }

    /// <summary>The key clients must send as a bearer token; null accepts anyone.</summary>
    public string? ApiKey { get; init; }

    /// <summary>Without ignore_eos or min_tokens, generation stops after this many tokens (an early EOS).</summary>
    public int? EosAfterTokens { get; init; }

    /// <summary>On the chat route, the first this many generated tokens are reasoning: streamed as <c>reasoning_content</c> and reported in <c>completion_tokens_details</c>.</summary>
    public int ReasoningTokens { get; set; }

    /// <summary>Answer HTTP 400 naming the field to any request carrying <c>min_tokens</c>, as hosted APIs do.</summary>
    public bool RefuseMinTokens { get; set; }

    /// <summary>Tokens the chat template adds to a chat prompt.</summary>
    public int ChatTemplateTokens { get; init; } = 5;

    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>Requests finished (answered, failed or aborted), in the order they finished.</summary>
    public IReadOnlyList<ReceivedRequest> Requests => _received.ToArray();

    /// <summary>Requests refused for carrying <c>min_tokens</c> (see <see cref="RefuseMinTokens"/>).</summary>
    public int RefusedMinTokens => Volatile.Read(ref _refusedMinTokens);

    /// <summary>Requests received so far, including any still being answered.</summary>
    public int ReceivedCount => Volatile.Read(ref _count);

    public static async Task<OpenAiEmulator> StartAsync(EmulatedLatency latency, int seed = 1, string? apiKey = null, int? eosAfterTokens = null)
    {
        // Handlers block for the last milliseconds of each wait (see DelayUntil); enough pool threads keep
        // concurrent requests from queueing behind each other.
        ThreadPool.GetMinThreads(out var workers, out var io);
        ThreadPool.SetMinThreads(Math.Max(workers, 32), Math.Max(io, 32));
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var emulator = new OpenAiEmulator(app, latency, seed) { ApiKey = apiKey, EosAfterTokens = eosAfterTokens };
        app.MapPost("/v1/completions", ctx => emulator.HandleAsync(ctx, chat: false));
        app.MapPost("/v1/chat/completions", ctx => emulator.HandleAsync(ctx, chat: true));
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        emulator.BaseAddress = new Uri(address.TrimEnd('/') + "/v1/");
        return emulator;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task HandleAsync(HttpContext ctx, bool chat)
    {
        var start = VirtualClock?.GetTimestamp() ?? Stopwatch.GetTimestamp();
        var number = Interlocked.Increment(ref _count) - 1;
        var fault = Faults?.Invoke(number);
        if (ApiKey is not null && ctx.Request.Headers.Authorization.ToString() != $"Bearer {ApiKey}")
        {
            await ErrorAsync(ctx, 401, "invalid api key");
            return;
        }

        using var body = await JsonDocument.ParseAsync(ctx.Request.Body);
        var root = body.RootElement;
        var (p, promptKey) = ReadPrompt(root, chat);
        var o = root.GetProperty("max_tokens").GetInt32();
        var stream = root.TryGetProperty("stream", out var s) && s.GetBoolean();
        var ignoreEos = root.TryGetProperty("ignore_eos", out var ie) && ie.GetBoolean();
        var minTokens = root.TryGetProperty("min_tokens", out var mt) ? mt.GetInt32() : 0;
        if (RefuseMinTokens && root.TryGetProperty("min_tokens", out _))
        {
            Interlocked.Increment(ref _refusedMinTokens);
            await ErrorAsync(ctx, 400, "Unrecognized request argument supplied: min_tokens");
            return;
        }

        var includeUsage = root.TryGetProperty("stream_options", out var so) && so.TryGetProperty("include_usage", out var iu) && iu.GetBoolean();
        var generated = ignoreEos || minTokens >= o || EosAfterTokens is null ? o : Math.Min(o, EosAfterTokens.Value);
        var completed = false;
        var arrivedWith = Interlocked.Increment(ref _inFlight);
        try
        {
            switch (fault?.Kind)
            {
                case EmulatedFaultKind.RateLimited:
                    ctx.Response.Headers.RetryAfter = fault.Seconds.ToString(CultureInfo.InvariantCulture);
                    await ErrorAsync(ctx, 429, "rate limited");
                    return;
                case EmulatedFaultKind.RateLimitedUntilDate:
                    ctx.Response.Headers.RetryAfter = Clock.GetUtcNow().AddSeconds(fault.Seconds).ToString("R", CultureInfo.InvariantCulture);
                    await ErrorAsync(ctx, 429, "rate limited");
                    return;
                case EmulatedFaultKind.RateLimitedNoRetryAfter:
                    await ErrorAsync(ctx, 429, "rate limited");
                    return;
                case EmulatedFaultKind.ServerError:
                    await ErrorAsync(ctx, 500, "internal error");
                    return;
                case EmulatedFaultKind.ServiceUnavailable:
                    await ErrorAsync(ctx, 503, "overloaded");
                    return;
                case EmulatedFaultKind.ServerErrorAfterOthers:
                    while (Volatile.Read(ref _inFlight) > 1)
                    {
                        await Task.Delay(2, ctx.RequestAborted);
                    }

                    await ErrorAsync(ctx, 500, "internal error");
                    return;
                case EmulatedFaultKind.Hang:
                    OnHang?.Invoke(number);
                    try
                    {
                        await Task.Delay(Timeout.Infinite, ctx.RequestAborted);
                    }
                    catch (OperationCanceledException)
                    {
                    }

                    return;
                case EmulatedFaultKind.BadRequest:
                    await ErrorAsync(ctx, 400, "bad request");
                    return;
                case EmulatedFaultKind.EchoAuthorization:
                    await ErrorAsync(ctx, 503, $"{new string('.', (int)fault.Seconds)}upstream refused header Authorization: {ctx.Request.Headers.Authorization}");
                    return;
                case EmulatedFaultKind.DropConnection:
                    ctx.Abort();
                    return;
            }

            // Requests of one concurrent batch arrive within the overhead; the load seen after it scales the rest.
            await DelayUntil(start, _latency.OverheadSeconds, ctx.RequestAborted);
            var load = 1 + (_latency.LoadPenaltyPerRequest * (Math.Max(arrivedWith, Volatile.Read(ref _inFlight)) - 1));
            var firstToken = _latency.OverheadSeconds
                + (load * (_latency.PromptBaseSeconds + (_latency.PromptSecondsPerToken * p) + Noise()))
                + (fault?.Kind == EmulatedFaultKind.Slow ? fault.Seconds : 0);
            var g = load * _latency.PerOutputTokenSeconds;
            var finish = generated < o ? "stop" : "length";
            if (!stream)
            {
                await DelayUntil(start, firstToken + ((generated - 1) * g), ctx.RequestAborted);
                if (fault?.Kind == EmulatedFaultKind.MalformedJson)
                {
                    ctx.Response.ContentType = "application/json";
                    await ctx.Response.WriteAsync("{\"choices\": [ {\"text\": \"xx");
                    return;
                }

                if (fault?.Kind == EmulatedFaultKind.NoUsage)
                {
                    await ctx.Response.WriteAsJsonAsync(new { id = $"cmpl-{number}", choices = new[] { new { index = 0, text = new string('x', generated), finish_reason = finish } } });
                    completed = true;
                    return;
                }

                var content = chat
                    ? new Dictionary<string, object?> { ["index"] = 0, ["message"] = new { role = "assistant", content = new string('x', generated) }, ["finish_reason"] = finish }
                    : new Dictionary<string, object?> { ["index"] = 0, ["text"] = new string('x', generated), ["finish_reason"] = finish };
                await ctx.Response.WriteAsJsonAsync(new
                {
                    id = $"cmpl-{number}",
                    choices = new[] { content },
                    usage = new { prompt_tokens = ReportedPrompt(p, fault), completion_tokens = ReportedOutput(generated, fault), total_tokens = p + generated },
                });
                completed = true;
                return;
            }

            ctx.Response.ContentType = "text/event-stream";
            await ctx.Response.StartAsync();
            if (chat)
            {
                await SendAsync(ctx, "{\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}");
            }

            for (var k = 0; k < generated; k++)
            {
                await DelayUntil(start, firstToken + (k * g), ctx.RequestAborted);
                if (fault?.Kind == EmulatedFaultKind.DropMidStream && k == generated / 2)
                {
                    ctx.Abort();
                    return;
                }

                if (fault?.Kind == EmulatedFaultKind.MalformedJson && k == generated / 2)
                {
                    await SendAsync(ctx, "{\"choices\": [ {\"text\"");
                    return;
                }

                if (fault?.Kind == EmulatedFaultKind.MalformedSse && k == generated / 2)
                {
                    await ctx.Response.WriteAsync("data: <html><body>502 Bad Gateway</body></html>\n\n");
                    await ctx.Response.Body.FlushAsync();
                    return;
                }

                if (fault?.Kind == EmulatedFaultKind.ShortStream && k == 0 && generated > 1)
                {
                    continue; // a token the proxy lost; the last one (with its finish reason) and the usage still arrive
                }

                var last = k == generated - 1;
                var finishJson = last ? $"\"{finish}\"" : "null";
                var field = k < ReasoningTokens ? "reasoning_content" : "content";
                await SendAsync(ctx, chat
                    ? $"{{\"choices\":[{{\"index\":0,\"delta\":{{\"{field}\":\"x\"}},\"finish_reason\":{finishJson}}}]}}"
                    : $"{{\"choices\":[{{\"index\":0,\"text\":\"x\",\"finish_reason\":{finishJson}}}]}}");
            }

            if (includeUsage && fault?.Kind != EmulatedFaultKind.NoUsage)
            {
                var details = chat && ReasoningTokens > 0 ? $",\"completion_tokens_details\":{{\"reasoning_tokens\":{Math.Min(ReasoningTokens, generated)}}}" : string.Empty;
                await SendAsync(ctx, $"{{\"choices\":[],\"usage\":{{\"prompt_tokens\":{ReportedPrompt(p, fault)},\"completion_tokens\":{ReportedOutput(generated, fault)},\"total_tokens\":{p + generated}{details}}}}}");
            }

            await ctx.Response.WriteAsync("data: [DONE]\n\n");
            await ctx.Response.Body.FlushAsync();
            completed = true;
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
            _received.Enqueue(new ReceivedRequest(number, p, o, promptKey, stream, chat, fault?.Kind, completed));
        }
    }

    private static int ReportedPrompt(int p, EmulatedFault? fault)
        => fault?.Kind == EmulatedFaultKind.WrongPromptUsage ? p + (int)fault.Seconds : p;

    private static int ReportedOutput(int generated, EmulatedFault? fault)
        => fault?.Kind == EmulatedFaultKind.WrongOutputUsage ? generated + 3 : generated;

    private (int PromptTokens, string Key) ReadPrompt(JsonElement root, bool chat)
    {
        if (chat)
        {
            var text = root.GetProperty("messages")[0].GetProperty("content").GetString()!;
            return (Counter.CountTokens(text) + ChatTemplateTokens, text);
        }

        var prompt = root.GetProperty("prompt");
        if (prompt.ValueKind == JsonValueKind.Array)
        {
            var ids = prompt.EnumerateArray().Select(e => e.GetInt32()).ToArray();
            return (ids.Length, string.Join(',', ids));
        }

        var promptText = prompt.GetString()!;
        return (Counter.CountTokens(promptText), promptText);
    }

    private double Noise()
    {
        lock (_noise)
        {
            return _noise.NextDouble() < _latency.ZeroNoiseProbability
                ? 0
                : -_latency.NoiseMeanSeconds * Math.Log(1 - _noise.NextDouble());
        }
    }

    // Absolute deadlines keep timer overshoot from accumulating over the tokens of a stream. Task.Delay ticks in
    // ~4 ms steps on this kind of VM while Thread.Sleep is within ~0.1 ms, so the last few milliseconds sleep and
    // the last fraction of one spins.
    private async Task DelayUntil(long start, double seconds, CancellationToken aborted)
    {
        if (VirtualClock is { } clock)
        {
            var due = TimeSpan.FromSeconds(seconds) - clock.GetElapsedTime(start);
            if (due > TimeSpan.Zero)
            {
                clock.Advance(due);
            }

            return;
        }

        var remaining = TimeSpan.FromSeconds(seconds) - Stopwatch.GetElapsedTime(start);
        if (remaining > TimeSpan.FromMilliseconds(10))
        {
            await Task.Delay(remaining - TimeSpan.FromMilliseconds(6), aborted);
            remaining = TimeSpan.FromSeconds(seconds) - Stopwatch.GetElapsedTime(start);
        }

        if (remaining > TimeSpan.Zero)
        {
            Thread.Sleep((int)remaining.TotalMilliseconds); // whole milliseconds only; the rest spins
        }

        var deadline = TimeSpan.FromSeconds(seconds);
        while (Stopwatch.GetElapsedTime(start) < deadline)
        {
            Thread.SpinWait(50);
        }
    }

    private static async Task SendAsync(HttpContext ctx, string json)
    {
        await ctx.Response.WriteAsync($"data: {json}\n\n", Encoding.UTF8);
        await ctx.Response.Body.FlushAsync();
    }

    private static async Task ErrorAsync(HttpContext ctx, int status, string message)
    {
        ctx.Response.StatusCode = status;
        await ctx.Response.WriteAsJsonAsync(new { error = new { message, type = "emulated", code = status } });
    }
}
