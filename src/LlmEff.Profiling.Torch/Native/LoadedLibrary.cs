using System.Runtime.InteropServices;
using TorchSharp;

namespace LlmEff.Profiling.Torch;

/// <summary>
/// Finds exported C++ entry points of the libtorch libraries that TorchSharp has already loaded, for the few libtorch
/// features TorchSharp does not expose. Resolution happens after TorchSharp has loaded libtorch: a bare-name dlopen only
/// finds a library once it is loaded (it is not on the loader's search path).
/// </summary>
internal static class LoadedLibrary
{
    /// <summary>
    /// The address of the first of <paramref name="symbols"/> exported by a loaded library named <paramref name="fileName"/>
    /// (e.g. <c>libtorch_cpu.so</c>), or <see cref="IntPtr.Zero"/>.
    /// </summary>
    public static IntPtr Find(string fileName, params string[] symbols)
    {
        foreach (var handle in Handles(fileName))
        {
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

    /// <summary>Makes TorchSharp load its native backend; false where no backend package is present.</summary>
    public static bool EnsureTorchLoaded(DeviceType deviceType = DeviceType.CPU)
    {
        try
        {
            torch.InitializeDeviceType(deviceType);
            return true;
        }
        catch (Exception e) when (e is DllNotFoundException or NotSupportedException or InvalidOperationException)
        {
            return false;
        }
    }

    private static IEnumerable<IntPtr> Handles(string fileName)
    {
        var names = new List<string> { fileName };
        if (OperatingSystem.IsLinux())
        {
            names.AddRange(LoadedLinuxPaths(fileName));
        }

        foreach (var name in names)
        {
            // The library is already mapped, so this returns the loaded copy rather than loading another.
            if (NativeLibrary.TryLoad(name, out var handle))
            {
                yield return handle;
            }
        }
    }

    /// <summary>Full paths of a mapped library named <paramref name="fileName"/> (Linux; empty elsewhere).</summary>
    public static IReadOnlyList<string> LoadedPaths(string fileName) => OperatingSystem.IsLinux() ? LoadedLinuxPaths(fileName) : [];

    // Full paths of an already-mapped library, for loaders that do not match a bare name against loaded libraries.
    private static List<string> LoadedLinuxPaths(string fileName)
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
