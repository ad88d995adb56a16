namespace LlmEff.Core.Planning;

/// <summary>A configuration query to profile (paper §3.4): a prompt size and an output length.</summary>
/// <param name="PromptTokens">Prompt size in tokens.</param>
/// <param name="OutputTokens">Output tokens, at least 1.</param>
public readonly record struct ConfigurationQuery(int PromptTokens, int OutputTokens);
