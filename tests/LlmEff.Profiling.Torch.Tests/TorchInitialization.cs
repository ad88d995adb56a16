using System.Runtime.CompilerServices;
using TorchSharp;

namespace LlmEff.Profiling.Torch.Tests;

internal static class TorchInitialization
{
    /// <summary>
    /// Load the CPU backend before any test runs: tests create <c>Generator</c>s directly, and TorchSharp only loads its
    /// natives on some entry points, so whichever test ran first in parallel could fail with DllNotFoundException.
    /// </summary>
    [ModuleInitializer]
    internal static void LoadBackend() => torch.InitializeDeviceType(DeviceType.CPU);
}
