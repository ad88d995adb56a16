using TorchSharp;
using static TorchSharp.torch;

namespace LlmEff.Profiling.Torch;

/// <summary>
/// Loads TorchSharp's native backend before the first native call. Some TorchSharp entry points (a <c>Generator</c>
/// constructor, for one) call native code without going through the loader, and fail with DllNotFoundException
/// when they are the first torch call of a process.
/// </summary>
internal static class TorchBackend
{
    public static void Ensure(Device device)
    {
        torch.InitializeDeviceType(device.type == DeviceType.CUDA ? DeviceType.CUDA : DeviceType.CPU);
    }
}
