namespace LlmEff.Profiling.Api;

/// <summary>
/// A cap on what a run may spend, counted over the whole journal (a resumed run continues the count). A run stops
/// cleanly, before sending, when the next batch of requests could exceed any cap. Every cap is off by default.
/// </summary>
public sealed record ProfilingBudget
{
    /// <summary>No caps.</summary>
    public static ProfilingBudget Unlimited { get; } = new();

    /// <summary>Most HTTP attempts (retries included); null for no cap.</summary>
    public int? MaxRequests { get; init; }

    /// <summary>Most prompt plus generated tokens of successful requests (server-reported where given); null for no cap.</summary>
    public long? MaxTokens { get; init; }

    /// <summary>Most dollars, priced with the two per-million-token prices; null for no cap.</summary>
    public decimal? MaxDollars { get; init; }

    /// <summary>Price of one million prompt tokens in dollars. Default 0.</summary>
    public decimal DollarsPerMillionPromptTokens { get; init; }

    /// <summary>Price of one million generated tokens in dollars. Default 0.</summary>
    public decimal DollarsPerMillionOutputTokens { get; init; }

    /// <summary>Dollars for the given token counts at this budget's prices.</summary>
    public decimal Dollars(long promptTokens, long outputTokens)
        => ((promptTokens * DollarsPerMillionPromptTokens) + (outputTokens * DollarsPerMillionOutputTokens)) / 1_000_000m;

    internal void Validate()
    {
        if (MaxRequests is < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxRequests), MaxRequests, "MaxRequests must be non-negative, or null for no cap.");
        }

        if (MaxTokens is < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxTokens), MaxTokens, "MaxTokens must be non-negative, or null for no cap.");
        }

        if (MaxDollars is < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxDollars), MaxDollars, "MaxDollars must be non-negative, or null for no cap.");
        }

        if (DollarsPerMillionPromptTokens < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(DollarsPerMillionPromptTokens), DollarsPerMillionPromptTokens, "Token prices must be non-negative.");
        }

        if (DollarsPerMillionOutputTokens < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(DollarsPerMillionOutputTokens), DollarsPerMillionOutputTokens, "Token prices must be non-negative.");
        }

        if (MaxDollars is not null && DollarsPerMillionPromptTokens == 0 && DollarsPerMillionOutputTokens == 0)
        {
            throw new ArgumentException("MaxDollars needs a price: set DollarsPerMillionPromptTokens and/or DollarsPerMillionOutputTokens.", nameof(MaxDollars));
        }
    }
}
