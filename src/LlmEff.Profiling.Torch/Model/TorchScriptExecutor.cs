using System.Runtime.InteropServices;

namespace LlmEff.Profiling.Torch.Model;

/// <summary>
/// Switches libtorch's TorchScript graph executor to plain interpretation on the calling thread
/// (<c>torch::jit::setGraphExecutorOptimize(false)</c>, a thread-local flag that TorchSharp does not expose). By default
/// the profiling executor re-specialises the graph for new input shapes; every decode step has a new context length, so
/// runs were interrupted by re-profiling and bailouts at unpredictable steps and timings of the same query varied by up
/// to 2x. The plain interpreter runs the graph as written, the same way on every call.
/// </summary>
internal static unsafe class TorchScriptExecutor
{
    private static readonly delegate* unmanaged<byte, void> SetOptimize = Resolve();

    /// <summary>True when the libtorch entry point was found (Linux and Windows builds of libtorch).</summary>
    public static bool IsAvailable => SetOptimize is not null;

    /// <summary>Turns graph optimisation off for TorchScript calls made from this thread; a no-op where unavailable.</summary>
    public static void UsePlainInterpreter()
    {
        if (SetOptimize is not null)
        {
            SetOptimize(0);
        }
    }

    private static delegate* unmanaged<byte, void> Resolve()
    {
        // Itanium (GCC/Clang) and MSVC manglings of void torch::jit::setGraphExecutorOptimize(bool).
        string[] symbols = ["_ZN5torch3jit24setGraphExecutorOptimizeEb", "?setGraphExecutorOptimize@jit@torch@@YAX_N@Z"];
        string[] libraries = OperatingSystem.IsWindows() ? ["torch_cpu.dll"] : ["libtorch_cpu.so"];
        foreach (var library in libraries)
        {
            // TorchSharp has already loaded libtorch; this finds the loaded copy rather than loading another.
            if (!NativeLibrary.TryLoad(library, out var handle))
            {
                continue;
            }

            foreach (var symbol in symbols)
            {
                if (NativeLibrary.TryGetExport(handle, symbol, out var address))
                {
                    return (delegate* unmanaged<byte, void>)address;
                }
            }
        }

        return null;
    }
}
