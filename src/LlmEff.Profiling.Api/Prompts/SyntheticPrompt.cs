namespace LlmEff.Profiling.Api;

/// <summary>A synthetic prompt of an exact token count under a named encoding (paper §3.4's "pre-configured sizes").</summary>
/// <param name="Text">The prompt text; encodes to exactly <paramref name="TokenIds"/> under <paramref name="EncodingName"/>.</param>
/// <param name="TokenIds">The token ids, for endpoints that accept token-id prompts.</param>
/// <param name="EncodingName">The encoding the count refers to, e.g. <c>cl100k_base</c>.</param>
public sealed record SyntheticPrompt(string Text, IReadOnlyList<int> TokenIds, string EncodingName)
{
    /// <summary>Prompt size <c>p</c> in tokens.</summary>
    public int TokenCount => TokenIds.Count;
}
