namespace LlmEff.Profiling.Torch.Profiling;

/// <summary>How profiling outputs are named, so the library, the GPU harness and <c>llmeff</c> agree on file names.</summary>
public static class ProfileFiles
{
    /// <summary>
    /// File-name stem of a model: its name in lower case with every character other than a letter or digit as '-'
    /// (<c>EleutherAI/GPT-J</c> → <c>eleutherai-gpt-j</c>).
    /// </summary>
    public static string Slug(string modelName)
    {
        ArgumentNullException.ThrowIfNull(modelName);
        return new string(modelName.Select(c => char.IsLetterOrDigit(c) ? char.ToLowerInvariant(c) : '-').ToArray());
    }
}
