namespace LlmEff.Profiling.Torch;

/// <summary>
/// One run-time compiled kernel set as NVRTC gets it: what it is (for messages), the defines of one configuration, the
/// CUDA source and the kernels to load. <see cref="RuntimeKernels.Text"/> makes the whole program for an element type.
/// </summary>
internal sealed record KernelSource(string What, string Defines, string Source, string[] Kernels);
