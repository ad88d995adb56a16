namespace LlmEff.Profiling.Torch.Tests.Model;

/// <summary>The kernel compile tests' collection, run with no other test beside it: compiling keeps a core busy for tens of seconds, which the CPU profiling tests' timings would feel.</summary>
[CollectionDefinition(nameof(NvrtcCompileCollection), DisableParallelization = true)]
public sealed class NvrtcCompileCollection;
