namespace LlmEff.Profiling.Api;

/// <summary>What a run has spent, over the whole journal.</summary>
/// <param name="Requests">HTTP attempts, retries included.</param>
/// <param name="PromptTokens">Prompt tokens of successful requests.</param>
/// <param name="OutputTokens">Generated tokens of successful requests.</param>
/// <param name="Dollars">Their price under the budget's per-token prices.</param>
public sealed record BudgetUsage(int Requests, long PromptTokens, long OutputTokens, decimal Dollars)
{
    /// <summary>Prompt plus generated tokens.</summary>
    public long Tokens => PromptTokens + OutputTokens;
}
