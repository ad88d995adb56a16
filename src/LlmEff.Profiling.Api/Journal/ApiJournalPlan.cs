namespace LlmEff.Profiling.Api;

/// <summary>What a run plans to measure, as recorded in its journal's header.</summary>
/// <param name="PromptTokens">Prompt sizes.</param>
/// <param name="OutputTokens">Output lengths.</param>
/// <param name="Trials">Trials per configuration.</param>
/// <param name="ConcurrencyLevels">Concurrency levels.</param>
/// <param name="Stream">Whether answers are streamed.</param>
/// <param name="Seed">Seed of the prompts.</param>
public sealed record ApiJournalPlan(
    IReadOnlyList<int> PromptTokens,
    IReadOnlyList<int> OutputTokens,
    int Trials,
    IReadOnlyList<int> ConcurrencyLevels,
    bool Stream,
    int Seed)
{
    /// <summary>Request rates of a request-rate load study, in requests per second; null otherwise.</summary>
    public IReadOnlyList<double>? RequestRates { get; init; }

    /// <summary>Seconds each load-study level sends requests; null without a time cap.</summary>
    public double? DurationSeconds { get; init; }

    /// <summary>Requests per load-study level; null without a count cap.</summary>
    public int? MaxRequestsPerLevel { get; init; }

    /// <summary>Queries of an adaptive run (<see cref="ApiProfilingOptions.AdaptiveBudget"/>); null for a grid run. A journal is resumed in the same mode, with any budget.</summary>
    public int? AdaptiveBudget { get; init; }
}
