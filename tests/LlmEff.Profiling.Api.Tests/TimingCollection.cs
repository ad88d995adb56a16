namespace LlmEff.Profiling.Api.Tests;

/// <summary>Tests whose assertions depend on latencies run one at a time, apart from the rest.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TimingCollection
{
    public const string Name = "Timing";
}
