namespace LlmEff.Core.Workloads;

/// <summary>One query of a workload: its prompt size and number of generated tokens.</summary>
/// <param name="PromptTokens">Prompt size in tokens.</param>
/// <param name="OutputTokens">Generated tokens, at least 1.</param>
public readonly record struct WorkloadQuery(int PromptTokens, int OutputTokens);
