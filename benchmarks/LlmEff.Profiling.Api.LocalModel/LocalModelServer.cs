using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace LlmEff.Profiling.Api.LocalModel;

/// <summary>
/// An OpenAI-compatible <c>/v1/completions</c> server on 127.0.0.1 over <see cref="TinyDecoder"/>: token-id prompts,
/// exactly <c>max_tokens</c> tokens, SSE streaming and usage. One request at a time computes (no batching), so
/// concurrent requests queue, as on a simple single-device deployment.
/// </summary>
internal sealed class LocalModelServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly TinyDecoder _model;
    private readonly SemaphoreSlim _device = new(1, 1);

    private LocalModelServer(WebApplication app, TinyDecoder model)
    {
        _app = app;
        _model = model;
    }

    public Uri BaseAddress { get; private set; } = null!;

    public static async Task<LocalModelServer> StartAsync(TinyDecoder model)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var server = new LocalModelServer(app, model);
        app.MapPost("/v1/completions", server.HandleAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server.BaseAddress = new Uri(address.TrimEnd('/') + "/v1/");
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _device.Dispose();
    }

    private async Task HandleAsync(HttpContext ctx)
    {
        using var body = await JsonDocument.ParseAsync(ctx.Request.Body);
        var root = body.RootElement;
        if (!root.TryGetProperty("prompt", out var prompt) || prompt.ValueKind != JsonValueKind.Array)
        {
            ctx.Response.StatusCode = 400;
            await ctx.Response.WriteAsJsonAsync(new { error = new { message = "send the prompt as token ids" } });
            return;
        }

        var ids = prompt.EnumerateArray().Select(e => e.GetInt32()).ToArray();
        var n = root.GetProperty("max_tokens").GetInt32();
        var stream = root.TryGetProperty("stream", out var s) && s.GetBoolean();
        var includeUsage = root.TryGetProperty("stream_options", out var so) && so.TryGetProperty("include_usage", out var iu) && iu.GetBoolean();
        var usage = new { prompt_tokens = ids.Length, completion_tokens = n, total_tokens = ids.Length + n };
        await _device.WaitAsync(ctx.RequestAborted);
        try
        {
            if (!stream)
            {
                var tokens = _model.Generate(ids, n).ToArray();
                await ctx.Response.WriteAsJsonAsync(new
                {
                    id = "cmpl",
                    choices = new[] { new { index = 0, text = string.Join(' ', tokens), finish_reason = "length" } },
                    usage,
                });
                return;
            }

            ctx.Response.ContentType = "text/event-stream";
            await ctx.Response.StartAsync();
            var i = 0;
            foreach (var token in _model.Generate(ids, n))
            {
                var finish = ++i == n ? "\"length\"" : "null";
                await ctx.Response.WriteAsync($"data: {{\"choices\":[{{\"index\":0,\"text\":\" {token}\",\"finish_reason\":{finish}}}]}}\n\n");
                await ctx.Response.Body.FlushAsync();
            }

            if (includeUsage)
            {
                await ctx.Response.WriteAsync($"data: {{\"choices\":[],\"usage\":{JsonSerializer.Serialize(usage)}}}\n\n");
            }

            await ctx.Response.WriteAsync("data: [DONE]\n\n");
        }
        finally
        {
            _device.Release();
        }
    }
}
