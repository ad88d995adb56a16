namespace LlmEff.Profiling.Api;

/// <summary>Runtimes of one configuration at one concurrency level (paper Figure 6).</summary>
/// <param name="PromptTokens">Requested prompt size <c>p</c>.</param>
/// <param name="OutputTokens">Requested output tokens <c>o</c>.</param>
/// <param name="Concurrency">Requests in flight together.</param>
/// <param name="Samples">Successful requests at this level (trials × concurrency).</param>
/// <param name="MinimumSeconds">Fastest: what Figure 6 plots (minimum across trials).</param>
/// <param name="MedianSeconds">Median.</param>
/// <param name="MeanSeconds">Mean.</param>
/// <param name="MaximumSeconds">Slowest.</param>
/// <param name="SlowdownOfMinimum">Minimum here over the minimum at the lowest concurrency level (the paper saw up to 2×).</param>
public sealed record LoadStudyPoint(
    int PromptTokens,
    int OutputTokens,
    int Concurrency,
    int Samples,
    double MinimumSeconds,
    double MedianSeconds,
    double MeanSeconds,
    double MaximumSeconds,
    double SlowdownOfMinimum);
