
namespace LlmEff.Profiling.Torch;

/// <summary>
/// Switches libtorch's TorchScript graph executor to plain interpretation on the calling thread
/// (<c>torch::jit::setGraphExecutorOptimize(false)</c>, a thread-local flag that TorchSharp does not expose). By default
/// the profiling executor re-specialises the graph for new input shapes; every decode step has a new context length, so
/// runs were interrupted by re-profiling and bailouts at unpredictable steps and timings of the same query varied by up
/// to 2x. The plain interpreter runs the graph as written, the same way on every call.
/// </summary>
internal static unsafe class TorchScriptExecutor
{
    // Resolved on first use, after TorchSharp has loaded libtorch: a bare-name dlopen only finds the library once it
    // is loaded (it is not on the loader's search path), so resolving in a static initializer that ran before the
    // first torch call found nothing.
    private static readonly Lazy<IntPtr> Address = new(Resolve, LazyThreadSafetyMode.ExecutionAndPublication);

    private static delegate* unmanaged<byte, void> SetOptimize => (delegate* unmanaged<byte, void>)Address.Value;

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

    private static IntPtr Resolve()
    {
        if (!LoadedLibrary.EnsureTorchLoaded())
        {
            return IntPtr.Zero;
        }

        // Itanium (GCC/Clang) and MSVC manglings of void torch::jit::setGraphExecutorOptimize(bool).
        return LoadedLibrary.Find(
            OperatingSystem.IsWindows() ? "torch_cpu.dll" : "libtorch_cpu.so",
            "_ZN5torch3jit24setGraphExecutorOptimizeEb",
            "?setGraphExecutorOptimize@jit@torch@@YAX_N@Z");
    }
}
