using System.Runtime.InteropServices;
using System.Text;

namespace LlmEff.Profiling.Torch;

/// <summary>
/// NVRTC alone, without a GPU or a driver: compiles a program for a named architecture and returns the compiler's log
/// (with ptxas's register and spill counts) and the cubin. The run-time compiler loads that cubin on the device; the CPU
/// tests compile every run-time kernel set this way where NVRTC is installed, so a kernel that does not compile, or
/// spills, is found before a device call.
/// </summary>
internal static unsafe class OfflineNvrtc
{
    private static readonly Lazy<IntPtr> Library = new(Find, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Whether NVRTC could be loaded (<see cref="Find"/>'s search).</summary>
    public static bool IsAvailable => Library.Value != IntPtr.Zero;

    /// <summary>The process's NVRTC library handle (searched for once), or zero; the run-time compiler binds to the same one.</summary>
    internal static IntPtr Handle => Library.Value;

    /// <summary>NVRTC's version as major·10 + minor (118 for CUDA 11.8), or 0 where it is not loaded.</summary>
    public static int Version
    {
        get
        {
            if (!IsAvailable)
            {
                return 0;
            }

            var version = (delegate* unmanaged<int*, int*, int>)NativeLibrary.GetExport(Library.Value, "nvrtcVersion");
            int major, minor;
            return version(&major, &minor) == 0 ? (major * 10) + minor : 0;
        }
    }

    /// <summary>
    /// Compiles <paramref name="program"/> for <c>sm_<paramref name="architecture"/></c>: whether it compiled, the log
    /// (errors; with <paramref name="verbose"/>, ptxas's registers, spills and shared memory per kernel) and the cubin
    /// (null where it did not compile). The run-time compiler loads that cubin into the device's context.
    /// </summary>
    /// <exception cref="InvalidOperationException">NVRTC is not available (<see cref="IsAvailable"/>), or one of its calls failed.</exception>
    public static (bool Compiled, string Log, byte[]? Cubin) Compile(string program, string name, int architecture, bool verbose = true)
    {
        if (!IsAvailable)
        {
            throw new InvalidOperationException("NVRTC (libnvrtc.so) was not found; set LLMEFF_NVRTC to its path.");
        }

        var lib = Library.Value;
        var create = (delegate* unmanaged<IntPtr*, byte*, byte*, int, byte**, byte**, int>)Export(lib, "nvrtcCreateProgram");
        var compile = (delegate* unmanaged<IntPtr, int, byte**, int>)Export(lib, "nvrtcCompileProgram");
        var logSize = (delegate* unmanaged<IntPtr, nuint*, int>)Export(lib, "nvrtcGetProgramLogSize");
        var getLog = (delegate* unmanaged<IntPtr, byte*, int>)Export(lib, "nvrtcGetProgramLog");
        var cubinSize = (delegate* unmanaged<IntPtr, nuint*, int>)Export(lib, "nvrtcGetCUBINSize");
        var getCubin = (delegate* unmanaged<IntPtr, byte*, int>)Export(lib, "nvrtcGetCUBIN");
        var destroy = (delegate* unmanaged<IntPtr*, int>)Export(lib, "nvrtcDestroyProgram");
        IntPtr handle;
        fixed (byte* s = Utf8(program), n = Utf8(name))
        {
            if (create(&handle, s, n, 0, null, null) != 0)
            {
                throw new InvalidOperationException("nvrtcCreateProgram failed.");
            }
        }

        try
        {
            string[] options = verbose
                ? [$"--gpu-architecture=sm_{architecture}", "--std=c++17", "--ptxas-options=-v"]
                : [$"--gpu-architecture=sm_{architecture}", "--std=c++17"];
            var rc = CompileProgram(compile, handle, options);
            nuint size;
            var log = string.Empty;
            if (logSize(handle, &size) == 0 && size > 0)
            {
                var buffer = new byte[(int)size];
                fixed (byte* b = buffer)
                {
                    getLog(handle, b);
                }

                log = Encoding.UTF8.GetString(buffer).TrimEnd('\0');
            }

            if (rc != 0)
            {
                return (false, log, null);
            }

            if (cubinSize(handle, &size) != 0)
            {
                throw new InvalidOperationException("nvrtcGetCUBINSize failed.");
            }

            var cubin = new byte[(int)size];
            fixed (byte* c = cubin)
            {
                if (getCubin(handle, c) != 0)
                {
                    throw new InvalidOperationException("nvrtcGetCUBIN failed.");
                }
            }

            return (true, log, cubin);
        }
        finally
        {
            destroy(&handle);
        }
    }

    /// <summary>NVRTC loaded from <c>LLMEFF_NVRTC</c>, the usual sonames (CUDA 13, 12, 11.2 as Debian ships it) or beside a PyTorch wheel's libtorch, or zero.</summary>
    private static IntPtr Find()
    {
        var candidates = new List<string>();
        if (Environment.GetEnvironmentVariable("LLMEFF_NVRTC") is { Length: > 0 } explicitPath)
        {
            candidates.Add(explicitPath);
        }

        candidates.AddRange(["libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so", "libnvrtc.so.11.2"]);

        // Beside the loaded libtorch: a PyTorch wheel's site-packages/nvidia/<pkg>/lib.
        foreach (var torchLib in LoadedLibrary.LoadedPaths("libtorch_cuda.so"))
        {
            var sitePackages = Path.GetDirectoryName(Path.GetDirectoryName(Path.GetDirectoryName(torchLib)));
            var nvidia = sitePackages is null ? null : Path.Combine(sitePackages, "nvidia");
            if (nvidia is not null && Directory.Exists(nvidia))
            {
                candidates.AddRange(Directory.EnumerateFiles(nvidia, "libnvrtc.so*", SearchOption.AllDirectories)
                    .Where(f => !f.Contains("builtins", StringComparison.Ordinal))
                    .OrderByDescending(f => f, StringComparer.Ordinal));
            }
        }

        foreach (var candidate in candidates)
        {
            if (NativeLibrary.TryLoad(candidate, out var handle))
            {
                return handle;
            }
        }

        return IntPtr.Zero;
    }

    // nvrtcCompileProgram of the program with the options (pinned as NUL-terminated UTF-8 for the call); its result code.
    private static int CompileProgram(delegate* unmanaged<IntPtr, int, byte**, int> compile, IntPtr program, params string[] options)
    {
        var pins = options.Select(o => GCHandle.Alloc(Utf8(o), GCHandleType.Pinned)).ToArray();
        try
        {
            var pointers = stackalloc byte*[pins.Length];
            for (var i = 0; i < pins.Length; i++)
            {
                pointers[i] = (byte*)pins[i].AddrOfPinnedObject();
            }

            return compile(program, pins.Length, pointers);
        }
        finally
        {
            foreach (var pin in pins)
            {
                pin.Free();
            }
        }
    }

    // An entry point of the loaded NVRTC; one it lacks (an NVRTC older than CUDA 11.1 has no cubin output) is reported
    // as the compile failure the callers handle, not as a missing symbol.
    private static IntPtr Export(IntPtr lib, string name) =>
        NativeLibrary.TryGetExport(lib, name, out var address)
            ? address
            : throw new InvalidOperationException($"The NVRTC found lacks {name}; CUDA 11.1 or later is needed (set LLMEFF_NVRTC to a newer libnvrtc.so).");

    private static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s + '\0');
}
