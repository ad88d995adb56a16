using System.Runtime.InteropServices;

namespace LlmEff.Profiling.Torch;

/// <summary>
/// One NVIDIA GPU seen through NVML (<c>libnvidia-ml.so.1</c>, part of the driver; <c>nvml.dll</c> on Windows): name,
/// memory, driver and CUDA versions, and the board's cumulative energy counter. NVML numbers GPUs by PCI order, which
/// matches CUDA's order unless <c>CUDA_VISIBLE_DEVICES</c> or <c>CUDA_DEVICE_ORDER</c> remap them.
/// </summary>
public sealed unsafe class NvmlGpu
{
    private const int Success = 0;
    private const int SmClockDomain = 1; // NVML_CLOCK_SM
    private static readonly Lazy<Api?> Loaded = new(Api.TryLoad);
    private readonly IntPtr _device;

    private NvmlGpu(int index, IntPtr device)
    {
        Index = index;
        _device = device;
    }

    /// <summary>The NVML device index.</summary>
    public int Index { get; }

    /// <summary>True when the NVML library could be loaded and initialised on this machine.</summary>
    public static bool IsAvailable => Loaded.Value is not null;

    /// <summary>Opens GPU <paramref name="index"/>; null when NVML is missing or has no such device.</summary>
    public static NvmlGpu? TryOpen(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        var api = Loaded.Value;
        if (api is null)
        {
            return null;
        }

        IntPtr device;
        return api.GetHandleByIndex((uint)index, &device) == Success ? new NvmlGpu(index, device) : null;
    }

    /// <summary>Reads the device's name, memory and driver versions now.</summary>
    /// <exception cref="InvalidOperationException">NVML returned an error code.</exception>
    public GpuDeviceInfo Query()
    {
        var api = Loaded.Value!;
        var name = stackalloc byte[256];
        Check(api.GetName(_device, name, 256), "nvmlDeviceGetName");
        MemoryInfo memory;
        Check(api.GetMemoryInfo(_device, &memory), "nvmlDeviceGetMemoryInfo");
        var driver = stackalloc byte[128];
        Check(api.GetDriverVersion(driver, 128), "nvmlSystemGetDriverVersion");
        int cuda;
        Check(api.GetCudaDriverVersion(&cuda), "nvmlSystemGetCudaDriverVersion");
        return new GpuDeviceInfo(
            Index,
            Marshal.PtrToStringUTF8((IntPtr)name) ?? "unknown",
            (long)memory.Total,
            (long)memory.Free,
            Marshal.PtrToStringUTF8((IntPtr)driver) ?? "unknown",
            $"{cuda / 1000}.{cuda % 1000 / 10}");
    }

    /// <summary>
    /// The board's energy counter in joules since the driver was loaded (Volta and newer), or null where unsupported.
    /// The difference of two readings is the energy used in between.
    /// </summary>
    public double? TotalEnergyJoules()
    {
        ulong millijoules;
        return Loaded.Value!.GetTotalEnergy(_device, &millijoules) == Success ? millijoules / 1000.0 : null;
    }

    /// <summary>Current board power draw in watts, or null where unsupported.</summary>
    public double? PowerWatts()
    {
        uint milliwatts;
        return Loaded.Value!.GetPowerUsage(_device, &milliwatts) == Success ? milliwatts / 1000.0 : null;
    }

    /// <summary>The enforced board power limit in watts (the paper's "board power" for idealized energy), or null where unsupported.</summary>
    public double? PowerLimitWatts()
    {
        uint milliwatts;
        return Loaded.Value!.GetPowerLimit(_device, &milliwatts) == Success ? milliwatts / 1000.0 : null;
    }

    /// <summary>The SM clock now in MHz (<c>nvmlDeviceGetClockInfo</c>, graphics/SM domain), or null where unsupported.</summary>
    public int? SmClockMegahertz()
    {
        var api = Loaded.Value!;
        uint mhz;
        return api.GetClockInfo is not null && api.GetClockInfo(_device, SmClockDomain, &mhz) == Success ? (int)mhz : null;
    }

    /// <summary>
    /// Why the clocks are below their maximum now, as NVML's bit mask (<c>nvmlDeviceGetCurrentClocksEventReasons</c>, or
    /// its older name <c>...ThrottleReasons</c>): 0x1 idle, 0x4 software power cap, 0x8 hardware slowdown, 0x20 software
    /// thermal, 0x40 hardware thermal, 0x80 hardware power brake; 0 when at full clocks; null where unsupported.
    /// </summary>
    public ulong? ClockEventReasons()
    {
        var api = Loaded.Value!;
        ulong reasons;
        return api.GetClockEventReasons is not null && api.GetClockEventReasons(_device, &reasons) == Success ? reasons : null;
    }

    private static void Check(int code, string function)
    {
        if (code != Success)
        {
            throw new InvalidOperationException($"NVML {function} failed with code {code}.");
        }
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct MemoryInfo
    {
        public ulong Total;
        public ulong Free;
        public ulong Used;
    }

    private sealed class Api
    {
        public delegate* unmanaged<uint, IntPtr*, int> GetHandleByIndex;
        public delegate* unmanaged<IntPtr, byte*, uint, int> GetName;
        public delegate* unmanaged<IntPtr, MemoryInfo*, int> GetMemoryInfo;
        public delegate* unmanaged<byte*, uint, int> GetDriverVersion;
        public delegate* unmanaged<int*, int> GetCudaDriverVersion;
        public delegate* unmanaged<IntPtr, ulong*, int> GetTotalEnergy;
        public delegate* unmanaged<IntPtr, uint*, int> GetPowerUsage;
        public delegate* unmanaged<IntPtr, uint*, int> GetPowerLimit;

        // Optional (diagnostics): null where the driver lacks them.
        public delegate* unmanaged<IntPtr, int, uint*, int> GetClockInfo;
        public delegate* unmanaged<IntPtr, ulong*, int> GetClockEventReasons;

        public static Api? TryLoad()
        {
            var names = OperatingSystem.IsWindows() ? new[] { "nvml.dll" } : new[] { "libnvidia-ml.so.1", "libnvidia-ml.so" };
            foreach (var n in names)
            {
                if (!NativeLibrary.TryLoad(n, out var lib))
                {
                    continue;
                }

                IntPtr F(string symbol) => NativeLibrary.TryGetExport(lib, symbol, out var f) ? f : IntPtr.Zero;
                var init = F("nvmlInit_v2");
                if (init == IntPtr.Zero || ((delegate* unmanaged<int>)init)() != Success)
                {
                    return null;
                }

                var api = new Api
                {
                    GetHandleByIndex = (delegate* unmanaged<uint, IntPtr*, int>)F("nvmlDeviceGetHandleByIndex_v2"),
                    GetName = (delegate* unmanaged<IntPtr, byte*, uint, int>)F("nvmlDeviceGetName"),
                    GetMemoryInfo = (delegate* unmanaged<IntPtr, MemoryInfo*, int>)F("nvmlDeviceGetMemoryInfo"),
                    GetDriverVersion = (delegate* unmanaged<byte*, uint, int>)F("nvmlSystemGetDriverVersion"),
                    GetCudaDriverVersion = (delegate* unmanaged<int*, int>)F("nvmlSystemGetCudaDriverVersion"),
                    GetTotalEnergy = (delegate* unmanaged<IntPtr, ulong*, int>)F("nvmlDeviceGetTotalEnergyConsumption"),
                    GetPowerUsage = (delegate* unmanaged<IntPtr, uint*, int>)F("nvmlDeviceGetPowerUsage"),
                    GetPowerLimit = (delegate* unmanaged<IntPtr, uint*, int>)F("nvmlDeviceGetEnforcedPowerLimit"),
                    GetClockInfo = (delegate* unmanaged<IntPtr, int, uint*, int>)F("nvmlDeviceGetClockInfo"),
                    GetClockEventReasons = (delegate* unmanaged<IntPtr, ulong*, int>)(F("nvmlDeviceGetCurrentClocksEventReasons") is var r and not 0 ? r : F("nvmlDeviceGetCurrentClocksThrottleReasons")),
                };
                return api.GetHandleByIndex is null || api.GetName is null || api.GetMemoryInfo is null || api.GetDriverVersion is null
                    || api.GetCudaDriverVersion is null || api.GetTotalEnergy is null || api.GetPowerUsage is null || api.GetPowerLimit is null ? null : api;
            }

            return null;
        }
    }
}
