using System.Runtime.CompilerServices;
using LlmEff.Tests.Shared;

namespace LlmEff.Profiling.Torch.Tests;

internal static class TorchInitialization
{
    /// <summary>
    /// Load the CPU backend before any test runs: tests create <c>Generator</c>s directly, and TorchSharp only loads its
    /// natives on some entry points, so whichever test ran first in parallel could fail with DllNotFoundException.
    /// A machine without libtorch is remembered here (<see cref="LibTorchAvailability.UnavailableReason"/>) instead of failing
    /// the module initializer.
    /// </summary>
    [ModuleInitializer]
    internal static void LoadBackend() => _ = LibTorchAvailability.IsAvailable;
}
