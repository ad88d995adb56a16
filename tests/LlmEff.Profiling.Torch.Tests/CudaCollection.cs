namespace LlmEff.Profiling.Torch.Tests;

/// <summary>
/// Tests that use the GPU run alone: a decoder captures its decode step as CUDA graphs when it is built, and while a
/// capture is open libtorch forbids other CUDA work in the process (a device synchronize fails, the default CUDA
/// generator refuses to draw random numbers).
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class CudaCollection
{
    /// <summary>The collection's name.</summary>
    public const string Name = "CUDA";
}
