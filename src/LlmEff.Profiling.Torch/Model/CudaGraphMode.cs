namespace LlmEff.Profiling.Torch;

/// <summary>
/// Whether <see cref="GreedyDecoder"/> replays its decode steps as captured CUDA graphs. The capture, when the decoder is
/// built, must not overlap other CUDA work in the process (see the decoder's constructor).
/// </summary>
public enum CudaGraphMode
{
    /// <summary>Use CUDA graphs where they are available (a CUDA device with libtorch's graph entry points, Linux x86-64); otherwise run eagerly.</summary>
    Auto,

    /// <summary>Never: every decode step dispatches its ops from the TorchScript interpreter.</summary>
    Off,

    /// <summary>Always: fail with <see cref="NotSupportedException"/> where CUDA graphs are not available.</summary>
    Required,
}
