using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace LlmEff.Profiling.Api;

/// <summary>
/// Profiles an OpenAI-compatible HTTP API (<c>/v1/completions</c> or <c>/v1/chat/completions</c>): sends the
/// synthetic prompt, asks for exactly <c>o</c> tokens, times the answer (streamed or whole) and returns the
/// server-reported usage. The API key is read once from the configured environment variable and is never logged.
/// </summary>
public sealed class OpenAiCompatibleEndpoint : IProfilingEndpoint, IDisposable
{
    private const int MaxErrorBodyChars = 400;
    private readonly OpenAiEndpointOptions _options;
    private readonly HttpClient _http;
    private readonly bool _ownsHttp;
    private readonly string? _apiKey;
    private readonly Uri _safeRoute;
    private readonly string? _userInfo;
    private readonly string? _password;
    private volatile bool _minTokensRefused;

    /// <summary>Creates the endpoint.</summary>
    /// <param name="options">Address, model, key variable and request shape.</param>
    /// <param name="httpClient">A client to use (not disposed here); null creates one without its own timeout (the profiler times requests out).</param>
    /// <exception cref="ArgumentException">Invalid options, or the key variable is named but unset.</exception>
    public OpenAiCompatibleEndpoint(OpenAiEndpointOptions options, HttpClient? httpClient = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        if (options.ApiKeyEnvironmentVariable is { } variable)
        {
            _apiKey = Environment.GetEnvironmentVariable(variable);
            if (string.IsNullOrEmpty(_apiKey))
            {
                throw new ArgumentException(
                    $"Environment variable '{variable}' holding the API key is not set; set it, or set ApiKeyEnvironmentVariable = null for a server without authentication.",
                    nameof(options));
            }
        }

        _ownsHttp = httpClient is null;
        _http = httpClient ?? new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
        var baseAddress = options.BaseAddress.AbsoluteUri.EndsWith('/') ? options.BaseAddress : new Uri(options.BaseAddress.AbsoluteUri + "/");
        var route = new Uri(baseAddress, options.Api == OpenAiApiKind.Completions ? "completions" : "chat/completions");

        // A user name and password in the address (http://user:pw@host/v1/) are sent as Basic authentication when no
        // key is configured, and are a secret like the key: nothing recorded or printed carries them.
        _userInfo = string.IsNullOrEmpty(route.UserInfo) ? null : Uri.UnescapeDataString(route.UserInfo);
        _password = _userInfo?.IndexOf(':', StringComparison.Ordinal) is int colon and >= 0 && colon < _userInfo.Length - 1 ? _userInfo[(colon + 1)..] : null;
        _safeRoute = WithoutCredentials(route);
    }

    /// <inheritdoc />
    public string Description => $"{_options.Model} at {_safeRoute.GetLeftPart(UriPartial.Path)}";

    /// <summary>The model name sent in each request.</summary>
    public string Model => _options.Model;

    /// <summary>The route requests go to, without user name or password.</summary>
    public Uri Address => _safeRoute;

    /// <summary>The route profiled.</summary>
    public OpenAiApiKind Api => _options.Api;

    /// <summary>
    /// True once the server refused <c>min_tokens</c> (HTTP 400 naming the field): requests are then sent without it,
    /// so exact lengths rest on <c>max_tokens</c> (and <c>ignore_eos</c> when asked) and mismatches are counted.
    /// </summary>
    public bool MinTokensRefused => _minTokensRefused;

    /// <summary>Removes a user name and password from an address, e.g. before it is logged or stored.</summary>
    /// <param name="address">Any absolute address.</param>
    public static Uri WithoutCredentials(Uri address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (!address.IsAbsoluteUri || string.IsNullOrEmpty(address.UserInfo))
        {
            return address;
        }

        return new UriBuilder(address) { UserName = string.Empty, Password = string.Empty }.Uri;
    }

    /// <summary>The request settings a journal header records (see <see cref="ApiJournalHeader.RequestSettings"/>).</summary>
    internal string RequestSettings => string.Create(
        CultureInfo.InvariantCulture,
        $"ignore_eos {(_options.IgnoreEos ? "on" : "off")}, min_tokens {(_options.SendMinTokens ? "on" : "off")}, prompt as {(_options.SendTokenIds ? "token ids" : "text")}, temperature {_options.Temperature:R}");

    /// <inheritdoc />
    public async Task<EndpointResponse> SendAsync(EndpointRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentOutOfRangeException.ThrowIfLessThan(request.OutputTokens, 1, nameof(request));
        var withMinTokens = _options.SendMinTokens && !_minTokensRefused;
        try
        {
            return await SendOnceAsync(request, withMinTokens, cancellationToken).ConfigureAwait(false);
        }
        catch (EndpointException ex) when (withMinTokens && ex.StatusCode == 400 && ex.Message.Contains("min_tokens", StringComparison.Ordinal))
        {
            // A server that does not know the field (hosted APIs) says so at once; it stays off for the rest of the run. The
            // refusal is an attempt like any other (budgeted and journaled by the caller), retried without the field.
            _minTokensRefused = true;
            throw new EndpointException(EndpointFailureKind.ClientError, $"{ex.Message} (the server does not take min_tokens; the request goes again without it)", ex.StatusCode, transient: true);
        }
    }

    private async Task<EndpointResponse> SendOnceAsync(EndpointRequest request, bool withMinTokens, CancellationToken cancellationToken)
    {
        using var message = new HttpRequestMessage(HttpMethod.Post, _safeRoute)
        {
            Content = new ByteArrayContent(OpenAiPayload.BuildBody(_options, request, withMinTokens)),
        };
        message.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        if (_apiKey is not null)
        {
            message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _apiKey);
        }
        else if (_userInfo is not null)
        {
            message.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(_userInfo)));
        }

        var start = _options.TimeProvider.GetTimestamp();
        try
        {
            using var response = await _http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                throw await FailureAsync(response, cancellationToken).ConfigureAwait(false);
            }

            return request.Stream
                ? await ReadStreamAsync(response, start, cancellationToken).ConfigureAwait(false)
                : await ReadWholeAsync(response, start, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException ex)
        {
            throw new EndpointException(EndpointFailureKind.ConnectionFailed, Redact($"Connection to {Description} failed: {ex.Message}"), innerException: null);
        }
        catch (IOException ex)
        {
            throw new EndpointException(EndpointFailureKind.ConnectionFailed, Redact($"Connection to {Description} dropped mid-answer: {ex.Message}"));
        }
        catch (JsonException ex)
        {
            throw new EndpointException(EndpointFailureKind.MalformedResponse, Redact($"{Description} answered malformed JSON: {ex.Message}"));
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_ownsHttp)
        {
            _http.Dispose();
        }
    }

    private double SecondsSince(long start) => _options.TimeProvider.GetElapsedTime(start).TotalSeconds;

    private async Task<EndpointResponse> ReadWholeAsync(HttpResponseMessage response, long start, CancellationToken cancellationToken)
    {
        var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        var runtime = SecondsSince(start);
        var (p, o, reasoning, finish) = OpenAiPayload.ReadCompletionWithReasoning(body);
        return new EndpointResponse { RuntimeSeconds = runtime, ReportedPromptTokens = p, ReportedOutputTokens = o, ReportedReasoningTokens = reasoning, FinishReason = finish };
    }

    private async Task<EndpointResponse> ReadStreamAsync(HttpResponseMessage response, long start, CancellationToken cancellationToken)
    {
        using var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var tally = new StreamTally();
        var done = false;
        while (!done)
        {
            var line = await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false);
            if (line is null)
            {
                break;
            }

            if (!line.StartsWith("data:", StringComparison.Ordinal))
            {
                continue; // blank separators, comments and event names
            }

            var data = line.AsSpan(5).Trim().ToString();
            if (data == "[DONE]")
            {
                done = true;
                break;
            }

            var now = SecondsSince(start);
            var chunk = OpenAiPayload.ReadChunk(data, _options.Api);
            tally.Report(chunk.FinishReason, chunk.PromptTokens, chunk.OutputTokens, chunk.ReasoningTokens);
            tally.Chunk(now, chunk.IsContent, chunk.IsReasoning);
        }

        var runtime = SecondsSince(start);
        if (!done && tally.FinishReason is null)
        {
            throw new EndpointException(EndpointFailureKind.ConnectionFailed, $"The stream from {Description} ended after {tally.Chunks} tokens without [DONE] or a finish reason.");
        }

        // A finish reason without [DONE] is accepted (not every server sends it); had the cut taken the usage chunk,
        // the answer is journaled as suspect for lacking usage.
        return tally.ToResponse(runtime);
    }

    private async Task<EndpointException> FailureAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var status = (int)response.StatusCode;
        string body;
        try
        {
            body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException)
        {
            body = string.Empty;
        }

        // Redact before cutting: a key straddling the cut would otherwise survive as a prefix the redactor cannot match.
        body = Redact(body);
        if (body.Length > MaxErrorBodyChars)
        {
            body = body[..MaxErrorBodyChars] + "...";
        }

        var kind = EndpointException.Classify(status);
        var message = Redact($"{Description} answered HTTP {status} ({response.ReasonPhrase}): {body}");
        return new EndpointException(kind, message, status, ReadRetryAfter(response));
    }

    private TimeSpan? ReadRetryAfter(HttpResponseMessage response)
    {
        var header = response.Headers.RetryAfter;
        if (header?.Delta is { } delta)
        {
            return delta;
        }

        if (header?.Date is { } date)
        {
            var wait = date - _options.TimeProvider.GetUtcNow();
            return wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
        }

        // Some providers send fractional seconds, which the typed header refuses.
        if (response.Headers.TryGetValues("Retry-After", out var values)
            && double.TryParse(values.FirstOrDefault(), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var seconds)
            && seconds >= 0)
        {
            return TimeSpan.FromSeconds(seconds);
        }

        return null;
    }

    // Servers sometimes echo request headers in error bodies; the key must never reach a log or a journal.
    private string Redact(string text)
        => ApiKeyRedactor.Redact(ApiKeyRedactor.Redact(ApiKeyRedactor.Redact(text, _apiKey), _userInfo), _password);
}
