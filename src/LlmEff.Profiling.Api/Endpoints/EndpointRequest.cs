
namespace LlmEff.Profiling.Api;

/// <summary>One generation request: a prompt of known size and the exact number of tokens to generate.</summary>
/// <param name="Prompt">The synthetic prompt.</param>
/// <param name="OutputTokens">Tokens to generate, <c>o</c>; at least 1.</param>
/// <param name="Stream">True to stream the answer and time its first token and each inter-token gap.</param>
public sealed record EndpointRequest(SyntheticPrompt Prompt, int OutputTokens, bool Stream);
