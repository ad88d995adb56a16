namespace LlmEff.Profiling.Api;

/// <summary>How a load study drives the endpoint at each level.</summary>
public enum LoadStudyMode
{
    /// <summary>Closed loop: a fixed number of requests in flight, each replaced as soon as it finishes.</summary>
    Concurrency,

    /// <summary>Open loop: requests arrive as a Poisson process of a given rate, whether or not earlier ones finished.</summary>
    RequestRate,
}
