namespace LlmEff.Core.Metrics;

/// <summary>What <see cref="ScenarioFrontier.Analyze"/> computes: which metric, scenarios and models, and which rankings.</summary>
/// <param name="Metric">The efficiency metric (lower is better), a key of <see cref="AccuracyRow.Metrics"/>, e.g. <c>idealized</c> or <c>cost_usd</c>.</param>
public sealed record ScenarioFrontierOptions(string Metric)
{
    /// <summary>Only these scenarios (exact names); null or empty for all.</summary>
    public IReadOnlyList<string>? Scenarios { get; init; }

    /// <summary>Only these models (exact names); null or empty for all.</summary>
    public IReadOnlyList<string>? Models { get; init; }

    /// <summary>Scenarios with fewer models that have <see cref="Metric"/> are skipped; at least 1. Default 2.</summary>
    public int MinimumModels { get; init; } = 2;

    /// <summary>
    /// Whether to rank the models of each scenario by <c>f1 = accuracy / metric</c> and <c>f2 = accuracy / ln(metric / unit)</c>
    /// (paper §5.4). Default true; a figure of the frontier alone does not need them.
    /// </summary>
    public bool Rank { get; init; } = true;

    /// <summary>
    /// The unit of <c>f2</c>'s logarithm, in the metric's own units (seconds for runtimes; default 0.001, i.e. 1 ms). A
    /// scenario where some value is at or below it gets no <c>f2</c> (the log would be zero or negative) rather than an error.
    /// </summary>
    public double LogUnit { get; init; } = 0.001;
}
