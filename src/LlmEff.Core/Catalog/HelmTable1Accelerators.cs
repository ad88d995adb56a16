namespace LlmEff.Core.Catalog;

/// <summary>
/// GPU counts of the paper's Table 1 (Narayanan et al. 2023) for the ten models it profiled, keyed by HELM's name for
/// each, so HELM-table models carry an accelerator count and idealized cost and energy can be priced.
/// </summary>
public static class HelmTable1Accelerators
{
    private static readonly Dictionary<string, int> Counts = new(StringComparer.OrdinalIgnoreCase)
    {
        ["openai/davinci"] = 8,
        ["ai21/j1-large"] = 1,
        ["ai21/j1-grande"] = 1,
        ["ai21/j1-jumbo"] = 8,
        ["cohere/xlarge-20220609"] = 4,
        ["anthropic/stanford-online-all-v4-s3"] = 4,
        ["microsoft/TNLGv2_530B"] = 24,
        ["together/gpt-j-6b"] = 1,
        ["together/yalm"] = 4,
        ["together/bloom"] = 8,
    };

    /// <summary>Every Table 1 GPU count by HELM model name (case-insensitive keys).</summary>
    public static IReadOnlyDictionary<string, int> All => Counts;

    /// <summary>The Table 1 GPU count of a HELM model name, or null when the paper did not profile it.</summary>
    /// <param name="helmName">HELM's model name, e.g. <c>openai/davinci</c>; case is ignored.</param>
    public static int? For(string helmName)
    {
        ArgumentNullException.ThrowIfNull(helmName);
        return Counts.TryGetValue(helmName, out var n) ? n : null;
    }
}
