using System.Runtime.InteropServices;
using TorchSharp;

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
        try
        {
            torch.InitializeDeviceType(DeviceType.CPU);
        }
        catch (Exception e) when (e is DllNotFoundException or NotSupportedException or InvalidOperationException)
        {
            return IntPtr.Zero;
        }

        // Itanium (GCC/Clang) and MSVC manglings of void torch::jit::setGraphExecutorOptimize(bool).
        string[] symbols = ["_ZN5torch3jit24setGraphExecutorOptimizeEb", "?setGraphExecutorOptimize@jit@torch@@YAX_N@Z"];
        var libraries = new List<string>(OperatingSystem.IsWindows() ? ["torch_cpu.dll"] : ["libtorch_cpu.so"]);
        if (OperatingSystem.IsLinux())
        {
            libraries.AddRange(LoadedLinuxPaths("libtorch_cpu.so"));
        }

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
                    return address;
                }
            }
        }

        return IntPtr.Zero;
    }

    // Full paths of an already-mapped library, for loaders that do not match a bare name against loaded libraries.
    private static IEnumerable<string> LoadedLinuxPaths(string fileName)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines("/proc/self/maps");
        }
        catch (IOException)
        {
            return [];
        }
        catch (UnauthorizedAccessException)
        {
            return [];
        }

        return lines
            .Select(line => line.IndexOf('/', StringComparison.Ordinal) is var i and >= 0 ? line[i..].Trim() : string.Empty)
            .Where(path => Path.GetFileName(path) == fileName)
            .Distinct(StringComparer.Ordinal)
            .ToList();
    }
}
