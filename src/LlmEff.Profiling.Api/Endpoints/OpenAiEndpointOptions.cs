namespace LlmEff.Profiling.Api;

/// <summary>How to reach and drive an OpenAI-compatible endpoint (OpenAI, vLLM, TGI, llama.cpp server, ...).</summary>
public sealed record OpenAiEndpointOptions
{
    /// <summary>Base address including the version segment, e.g. <c>http://127.0.0.1:8000/v1/</c>. Required.</summary>
    public required Uri BaseAddress { get; init; }

    /// <summary>The <c>model</c> field of each request. Required.</summary>
    public required string Model { get; init; }

    /// <summary>
    /// Name of the environment variable holding the API key (sent as <c>Authorization: Bearer</c>); null for
    /// servers without authentication. The key itself is never logged, stored or put into an exception message.
    /// Default <c>OPENAI_API_KEY</c>.
    /// </summary>
    public string? ApiKeyEnvironmentVariable { get; init; } = "OPENAI_API_KEY";

    /// <summary>Which route to call. Default <see cref="OpenAiApiKind.Completions"/> (no chat template in the prompt size).</summary>
    public OpenAiApiKind Api { get; init; } = OpenAiApiKind.Completions;

    /// <summary>Send the prompt as an array of token ids (completions route only; vLLM and OpenAI accept it). Default false.</summary>
    public bool SendTokenIds { get; init; }

    /// <summary>Send <c>ignore_eos: true</c> so generation runs to <c>max_tokens</c> (vLLM, llama.cpp, TGI). Default false, since hosted APIs reject unknown fields.</summary>
    public bool IgnoreEos { get; init; }

    /// <summary>
    /// Send <c>min_tokens = max_tokens</c> (vLLM and compatible servers) so that generation cannot end early and the
    /// answer has exactly the requested length. Default true: a server that refuses the field (HTTP 400 naming
    /// <c>min_tokens</c>, as hosted APIs answer) is asked again without it, and from then on the field stays off
    /// (<see cref="OpenAiCompatibleEndpoint.MinTokensRefused"/>).
    /// </summary>
    public bool SendMinTokens { get; init; } = true;

    /// <summary>When streaming, ask for a final usage chunk with <c>stream_options.include_usage</c>. Default true.</summary>
    public bool IncludeStreamUsage { get; init; } = true;

    /// <summary>Sampling temperature sent with every request. Default 0 (greedy; the output text is irrelevant, only its length).</summary>
    public double Temperature { get; init; }

    /// <summary>
    /// Clock that times each answer (runtime, time to first token, gaps between tokens) and turns an HTTP-date
    /// <c>Retry-After</c> into a wait. Default <see cref="TimeProvider.System"/>; tests pass a fake one so that no
    /// timing depends on how busy the machine is.
    /// </summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    internal void Validate()
    {
        ArgumentNullException.ThrowIfNull(TimeProvider, nameof(TimeProvider));
        ArgumentNullException.ThrowIfNull(BaseAddress, nameof(BaseAddress));
        if (!BaseAddress.IsAbsoluteUri || (BaseAddress.Scheme != Uri.UriSchemeHttp && BaseAddress.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException($"BaseAddress '{BaseAddress}' must be an absolute http(s) address such as http://127.0.0.1:8000/v1/.", nameof(BaseAddress));
        }

        if (string.IsNullOrWhiteSpace(Model))
        {
            throw new ArgumentException("Model is empty; pass the model name the server expects in the 'model' field.", nameof(Model));
        }

        if (SendTokenIds && Api == OpenAiApiKind.ChatCompletions)
        {
            throw new ArgumentException("SendTokenIds works only with the completions route; set Api = Completions or SendTokenIds = false.", nameof(SendTokenIds));
        }

        if (!double.IsFinite(Temperature) || Temperature < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(Temperature), Temperature, "Temperature must be a finite, non-negative number; use 0 for greedy decoding.");
        }
    }
}
