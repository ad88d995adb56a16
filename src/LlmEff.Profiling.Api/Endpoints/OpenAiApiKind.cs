namespace LlmEff.Profiling.Api;

/// <summary>Which OpenAI-compatible route is profiled.</summary>
public enum OpenAiApiKind
{
    /// <summary><c>POST /v1/completions</c>: raw prompt, no chat template; accepts token-id prompts on vLLM and OpenAI. The default.</summary>
    Completions = 0,

    /// <summary><c>POST /v1/chat/completions</c>: one user message; the server's chat template adds tokens, so reported prompt sizes exceed the synthetic ones.</summary>
    ChatCompletions = 1,
}
