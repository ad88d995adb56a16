namespace LlmEff.Cli.Tests;

/// <summary>
/// Tests whose outcome depends on measured times (a CPU profile must fit a positive per-token time) run one at a time,
/// apart from the rest of this assembly, so the other tests' threads do not add noise to their timings.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TimingCollection
{
    /// <summary>The collection's name.</summary>
    public const string Name = "Timing";
}
