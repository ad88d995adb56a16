namespace LlmEff.Profiling.Torch;

/// <summary>NCCL (<c>libnccl.so.2</c>) could not be loaded, so GPU all-reduce through NCCL is not possible in this process.</summary>
public sealed class NcclUnavailableException : InvalidOperationException
{
    /// <summary>Creates the exception, keeping the loader's error as the inner exception.</summary>
    /// <param name="loaderError">Why the library did not load (usually a <see cref="DllNotFoundException"/>).</param>
    public NcclUnavailableException(Exception loaderError)
        : base(
            $"NCCL ({NcclNative.Library}) could not be loaded: {loaderError?.Message} "
            + "Install NCCL 2.x (the nvidia-nccl-cu12/cu13 Python wheel that PyTorch brings, or the libnccl2 package), "
            + "and put the folder holding libnccl.so.2 on LD_LIBRARY_PATH (for a PyTorch install: <site-packages>/nvidia/nccl/lib). "
            + "Without several GPUs and NCCL, use HostAllReduce.",
            loaderError)
    {
    }
}
