using System.Runtime.InteropServices;

namespace LlmEff.Profiling.Torch;

/// <summary>
/// A <c>c10::cuda::CUDAStream</c> by value: 16 trivially copyable bytes (device type and index, then the stream id), which
/// the x86-64 System V ABI passes and returns in two integer registers, as it does this struct.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal readonly struct CudaStreamHandle
{
    private readonly long _device;
    private readonly long _id;
}
