using System.Runtime.InteropServices;
using System.Text;

namespace LlmEff.Profiling.Torch;

/// <summary>
/// NVRTC alone, without a GPU or a driver: compiles a program for a named architecture and returns the compiler's log
/// (with ptxas's register and spill counts). The CPU tests compile every run-time kernel set this way where NVRTC is
/// installed, so a kernel that does not compile, or spills, is found before a device call.
/// </summary>
internal static unsafe class OfflineNvrtc
{
    private static readonly Lazy<IntPtr> Library = new(CudaRuntimeCompiler.FindNvrtc, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Whether NVRTC could be loaded (<see cref="CudaRuntimeCompiler.FindNvrtc"/>'s search).</summary>
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
    /// Compiles <paramref name="program"/> for <c>sm_<paramref name="architecture"/></c> with ptxas's verbose report:
    /// whether it compiled, and the log (errors, or registers, spills and shared memory per kernel).
    /// </summary>
    /// <exception cref="InvalidOperationException">NVRTC is not available (<see cref="IsAvailable"/>).</exception>
    public static (bool Compiled, string Log) Compile(string program, string name, int architecture)
    {
        if (!IsAvailable)
        {
            throw new InvalidOperationException("NVRTC (libnvrtc.so) was not found; set LLMEFF_NVRTC to its path.");
        }

        var lib = Library.Value;
        var create = (delegate* unmanaged<IntPtr*, byte*, byte*, int, byte**, byte**, int>)NativeLibrary.GetExport(lib, "nvrtcCreateProgram");
        var compile = (delegate* unmanaged<IntPtr, int, byte**, int>)NativeLibrary.GetExport(lib, "nvrtcCompileProgram");
        var logSize = (delegate* unmanaged<IntPtr, nuint*, int>)NativeLibrary.GetExport(lib, "nvrtcGetProgramLogSize");
        var getLog = (delegate* unmanaged<IntPtr, byte*, int>)NativeLibrary.GetExport(lib, "nvrtcGetProgramLog");
        var destroy = (delegate* unmanaged<IntPtr*, int>)NativeLibrary.GetExport(lib, "nvrtcDestroyProgram");
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
            var rc = CompileProgram(compile, handle, $"--gpu-architecture=sm_{architecture}", "--std=c++17", "--ptxas-options=-v");
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

            return (rc == 0, log);
        }
        finally
        {
            destroy(&handle);
        }
    }

    /// <summary><c>nvrtcCompileProgram</c> of <paramref name="program"/> with <paramref name="options"/> (pinned as NUL-terminated UTF-8 for the call); its result code.</summary>
    internal static int CompileProgram(delegate* unmanaged<IntPtr, int, byte**, int> compile, IntPtr program, params string[] options)
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

    private static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s + '\0');
}
