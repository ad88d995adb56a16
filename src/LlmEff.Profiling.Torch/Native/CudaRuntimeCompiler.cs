using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Text;

namespace LlmEff.Profiling.Torch;

/// <summary>
/// Compiles CUDA C source to a module at run time (NVRTC) and launches its kernels through the CUDA driver API, on the
/// stream libtorch currently uses, so launches made while a CUDA graph is being captured become part of the graph.
/// Linux x86-64 only; every entry point is looked up by name, and <see cref="Load"/> says why when one is missing.
/// </summary>
internal sealed unsafe class CudaRuntimeCompiler
{
    private static readonly Lazy<(CudaRuntimeCompiler? Value, string? Reason)> Shared = new(Create, LazyThreadSafetyMode.ExecutionAndPublication);

    private readonly delegate* unmanaged<IntPtr*, void*, int> _moduleLoadData;
    private readonly delegate* unmanaged<IntPtr*, IntPtr, byte*, int> _moduleGetFunction;
    private readonly delegate* unmanaged<IntPtr, uint, uint, uint, uint, uint, uint, uint, IntPtr, void**, void**, int> _launch;
    private readonly delegate* unmanaged<LaunchConfig*, IntPtr, void**, void**, int> _launchEx; // null before CUDA 12
    private readonly delegate* unmanaged<int*, int, IntPtr, int> _funcGetAttribute;
    private readonly delegate* unmanaged<int*, int> _ctxGetDevice;
    private readonly delegate* unmanaged<int*, int, int, int> _deviceGetAttribute;
    private readonly delegate* unmanaged<int*, IntPtr, int, nuint, int> _occupancy;
    private readonly ConcurrentDictionary<IntPtr, byte> _dependents = new(); // kernels built to wait, on a device that can launch them early

    // CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION (cuda.h).
    private const int ProgrammaticStreamSerialization = 6;

    private CudaRuntimeCompiler(IntPtr driver)
    {
        IntPtr F(IntPtr lib, string name) => NativeLibrary.GetExport(lib, name);
        _moduleLoadData = (delegate* unmanaged<IntPtr*, void*, int>)F(driver, "cuModuleLoadData");
        _moduleGetFunction = (delegate* unmanaged<IntPtr*, IntPtr, byte*, int>)F(driver, "cuModuleGetFunction");
        _launch = (delegate* unmanaged<IntPtr, uint, uint, uint, uint, uint, uint, uint, IntPtr, void**, void**, int>)F(driver, "cuLaunchKernel");
        _launchEx = NativeLibrary.TryGetExport(driver, "cuLaunchKernelEx", out var launchEx) ? (delegate* unmanaged<LaunchConfig*, IntPtr, void**, void**, int>)launchEx : null;
        _funcGetAttribute = (delegate* unmanaged<int*, int, IntPtr, int>)F(driver, "cuFuncGetAttribute");
        _ctxGetDevice = (delegate* unmanaged<int*, int>)F(driver, "cuCtxGetDevice");
        _deviceGetAttribute = (delegate* unmanaged<int*, int, int, int>)F(driver, "cuDeviceGetAttribute");
        _occupancy = (delegate* unmanaged<int*, IntPtr, int, nuint, int>)F(driver, "cuOccupancyMaxActiveBlocksPerMultiprocessor");
    }

    /// <summary>The process's compiler, or null with the reason (no NVRTC, no driver, not Linux x86-64).</summary>
    public static (CudaRuntimeCompiler? Value, string? Reason) Load() => Shared.Value;

    /// <summary>
    /// Compiles <paramref name="source"/> for the current device and returns the named kernels; with
    /// <paramref name="dependentLaunches"/> (a program built with <c>LLMEFF_DEPENDENT_LAUNCH</c>, whose kernels all wait at
    /// <c>GRID_DEPENDENCY()</c>) they are launched as programmatic dependents on sm_90 and later.
    /// </summary>
    public IReadOnlyDictionary<string, IntPtr> Compile(string source, string name, IEnumerable<string> kernels, bool dependentLaunches = false)
    {
        var major = DeviceAttribute(75, "COMPUTE_CAPABILITY_MAJOR");
        var minor = DeviceAttribute(76, "COMPUTE_CAPABILITY_MINOR");
        var (compiled, log, cubin) = OfflineNvrtc.Compile(source, name, (major * 10) + minor, verbose: false);
        if (!compiled)
        {
            throw new InvalidOperationException($"NVRTC could not compile {name} for sm_{major}{minor}: {(log.Length > 0 ? log : "(no log)")}");
        }

        IntPtr module;
        fixed (byte* img = cubin)
        {
            Check(_moduleLoadData(&module, img), "cuModuleLoadData");
        }

        // Programmatic dependent launches exist from sm_90 and CUDA 12 (cuLaunchKernelEx).
        var early = dependentLaunches && major >= 9 && _launchEx is not null;
        var result = new Dictionary<string, IntPtr>();
        foreach (var kernel in kernels)
        {
            IntPtr function;
            var kn = Utf8(kernel);
            fixed (byte* k = kn)
            {
                Check(_moduleGetFunction(&function, module, k), $"cuModuleGetFunction({kernel})");
            }

            result[kernel] = function;
            if (early)
            {
                _dependents.TryAdd(function, 0);
            }
        }

        return result;
    }

    /// <summary>Launches <paramref name="function"/> on <paramref name="stream"/> (0: the legacy default stream).</summary>
    public void Launch(IntPtr function, uint gridX, uint blockX, IntPtr stream, void** arguments) =>
        Launch(function, gridX, 1, 1, blockX, stream, arguments);

    /// <summary>
    /// Whether kernel sets compiled from now on are built and launched as programmatic dependents of the kernel before
    /// them on sm_90 and later (<c>cuLaunchKernelEx</c> with programmatic stream serialization), so that each is scheduled
    /// while its predecessor drains and starts at <c>GRID_DEPENDENCY()</c> (<see cref="RuntimeKernels.GridDependency"/>)
    /// the moment that predecessor's writes are visible. On by default: on an H100 it took Qwen3-30B-A3B's decode step
    /// from 3.79 to 3.60 ms and Llama-3-8B's batched steps down by up to 0.2 ms (docs/benchmarks.md); off measures the
    /// kernels launched one after another. A set already compiled keeps the way it was built: only kernels that wait are
    /// ever launched this way.
    /// </summary>
    public static bool DependentLaunches { get; set; } = true;

    /// <summary>Whether any kernel this compiler built is launched as a programmatic dependent (the define, sm_90 and the driver's <c>cuLaunchKernelEx</c>).</summary>
    public bool LaunchesDependents => !_dependents.IsEmpty;

    /// <summary>Launches <paramref name="function"/> on a three-dimensional grid of one-dimensional blocks.</summary>
    public void Launch(IntPtr function, uint gridX, uint gridY, uint gridZ, uint blockX, IntPtr stream, void** arguments)
    {
        if (!_dependents.ContainsKey(function))
        {
            Check(_launch(function, gridX, gridY, gridZ, blockX, 1, 1, 0, stream, arguments, null), "cuLaunchKernel");
            return;
        }

        var attribute = new LaunchAttribute { Id = ProgrammaticStreamSerialization, Value = 1 };
        var config = new LaunchConfig
        {
            GridX = gridX, GridY = gridY, GridZ = gridZ, BlockX = blockX, BlockY = 1, BlockZ = 1,
            Stream = stream, Attributes = &attribute, AttributeCount = 1,
        };
        Check(_launchEx(&config, function, arguments, null), "cuLaunchKernelEx");
    }

    /// <summary>Registers per thread of a compiled kernel (CU_FUNC_ATTRIBUTE_NUM_REGS).</summary>
    public int Registers(IntPtr function)
    {
        int value;
        Check(_funcGetAttribute(&value, 4, function), "cuFuncGetAttribute(NUM_REGS)");
        return value;
    }

    /// <summary>
    /// Blocks of <paramref name="blockThreads"/> threads of <paramref name="function"/> that can be resident at once on the
    /// current device (its registers and shared memory against each SM's, times the SM count).
    /// </summary>
    public int ResidentBlocks(IntPtr function, int blockThreads)
    {
        int perSm;
        Check(_occupancy(&perSm, function, blockThreads, 0), "cuOccupancyMaxActiveBlocksPerMultiprocessor");
        return perSm * Multiprocessors();
    }

    /// <summary>SMs of the current device (CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT).</summary>
    public int Multiprocessors() => DeviceAttribute(16, "MULTIPROCESSOR_COUNT");

    // A CUdevice_attribute of the current context's device.
    private int DeviceAttribute(int attribute, string name)
    {
        int device, value;
        Check(_ctxGetDevice(&device), "cuCtxGetDevice (no current CUDA context: run a CUDA tensor operation first)");
        Check(_deviceGetAttribute(&value, attribute, device), $"cuDeviceGetAttribute({name})");
        return value;
    }

    /// <summary>Local memory bytes per thread of a compiled kernel (CU_FUNC_ATTRIBUTE_LOCAL_SIZE_BYTES): its register spills and local arrays.</summary>
    public int LocalBytes(IntPtr function)
    {
        int value;
        Check(_funcGetAttribute(&value, 3, function), "cuFuncGetAttribute(LOCAL_SIZE_BYTES)");
        return value;
    }

    private static void Check(int rc, string what)
    {
        if (rc != 0)
        {
            throw new InvalidOperationException($"{what} failed with CUDA/NVRTC error {rc}.");
        }
    }

    private static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s + '\0');

    private static (CudaRuntimeCompiler?, string?) Create()
    {
        if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture != Architecture.X64)
        {
            return (null, "run-time CUDA kernels are built for Linux x86-64 only.");
        }

        if (!NativeLibrary.TryLoad("libcuda.so.1", out var driver))
        {
            return (null, "the CUDA driver (libcuda.so.1) is not loadable.");
        }

        var nvrtc = OfflineNvrtc.Handle;
        if (nvrtc == IntPtr.Zero)
        {
            return (null, "NVRTC (libnvrtc.so) was not found; set LLMEFF_NVRTC to its path (PyTorch wheels ship it under site-packages/nvidia/*/lib).");
        }

        try
        {
            return (new CudaRuntimeCompiler(driver), null);
        }
        catch (EntryPointNotFoundException e)
        {
            return (null, $"NVRTC or the CUDA driver lacks an entry point: {e.Message}");
        }
    }

    // cuda.h's CUlaunchConfig (x86-64 layout).
    [StructLayout(LayoutKind.Sequential)]
    internal struct LaunchConfig
    {
        public uint GridX, GridY, GridZ, BlockX, BlockY, BlockZ, SharedMemoryBytes;
        public IntPtr Stream;
        public LaunchAttribute* Attributes;
        public uint AttributeCount;
    }

    // cuda.h's CUlaunchAttribute: a 4-byte id padded to 8, then a 64-byte value union whose first int is the flag used here.
    [StructLayout(LayoutKind.Explicit, Size = 72)]
    internal struct LaunchAttribute
    {
        [FieldOffset(0)]
        public int Id;

        [FieldOffset(8)]
        public int Value;
    }
}
