using System.Diagnostics;
using System.Runtime.InteropServices;
using TorchSharp;

namespace LlmEff.Profiling.Torch;

/// <summary>
/// libtorch's <c>at::cuda::CUDAGraph</c>, which TorchSharp does not expose, bound through its exported C++ symbols
/// (Linux x86-64 builds of libtorch). A captured graph replays a whole sequence of kernel launches with one host call,
/// which is what removes per-op host dispatch from a decode step. C++ exceptions cannot cross into .NET, so callers
/// capture only work known to be capturable (no host synchronisation, static shapes).
/// </summary>
internal sealed unsafe partial class CudaGraph : IDisposable
{
    // Plenty for the object (a few hundred bytes in libtorch 2.x); zeroed so every member starts in a valid state.
    private const int ObjectBytes = 16 * 1024;
    private const int CaptureModeThreadLocal = 1;

    private static readonly Lazy<Symbols?> Resolved = new(Resolve, LazyThreadSafetyMode.ExecutionAndPublication);

    private void* _self;

    private CudaGraph()
    {
        var symbols = Resolved.Value ?? throw new NotSupportedException(UnavailableReason);
        _self = NativeMemory.AllocZeroed(ObjectBytes);
        symbols.Construct(_self, 0);
    }

    /// <summary>True when libtorch's CUDA-graph and stream entry points were found (CUDA backend on Linux).</summary>
    public static bool IsAvailable => Resolved.Value is not null;

    /// <summary>Why <see cref="IsAvailable"/> is false, for error messages.</summary>
    public static string UnavailableReason =>
        "CUDA graphs need libtorch's CUDA backend on Linux (libtorch_cuda.so and libc10_cuda.so with the at::cuda::CUDAGraph and c10::cuda stream entry points); none was found in this process.";

    /// <summary>Why a one-device decoder on <paramref name="device"/> cannot capture its steps, or null when it can.</summary>
    internal static string? UnavailableReasonFor(TorchSharp.torch.Device device)
    {
        if (device.type != DeviceType.CUDA)
        {
            return $"the model is on {device}, and CUDA graphs need a CUDA device.";
        }

        if (device.index > 0)
        {
            // Capture and replay use the current device's streams, which TorchSharp cannot switch.
            return $"the model is on {device}; CUDA graphs are captured on the current device, cuda:0.";
        }

        return IsAvailable ? null : UnavailableReason;
    }

    /// <summary>
    /// Captures the CUDA work that <paramref name="body"/> issues on the calling thread. The capture runs on a side stream
    /// (CUDA cannot capture the default stream), which becomes current for the body and is restored afterwards; the caller
    /// should have run the body once on that stream beforehand (see <see cref="RunOnSideStream"/>) so that lazily created
    /// handles and workspaces exist before capture.
    /// </summary>
    public static CudaGraph Capture(Action body, CudaStreamHandle sideStream)
    {
        ArgumentNullException.ThrowIfNull(body);
        var previous = CurrentStream(-1);
        try
        {
            var graph = BeginCapture(sideStream);
            try
            {
                body();
            }
            catch (Exception e)
            {
                graph.Abandon();
                throw CaptureFailed(e);
            }

            graph.EndCapture();
            return graph;
        }
        finally
        {
            SetCurrentStream(previous);
        }
    }

    /// <summary>
    /// Captures the work <paramref name="body"/> issues on several devices at once (the ranks of a tensor-parallel step):
    /// one graph per device, each on its stream, all opened before the body runs and closed after it, each with its device
    /// current; the previous current device is restored. The streams stay current on their devices (the caller restores
    /// them). Replaying the graphs together replays the step, collectives between the devices included.
    /// </summary>
    public static CudaGraph[] CaptureOnDevices(IReadOnlyList<int> devices, IReadOnlyList<CudaStreamHandle> streams, Action body)
    {
        ArgumentNullException.ThrowIfNull(devices);
        ArgumentNullException.ThrowIfNull(streams);
        ArgumentNullException.ThrowIfNull(body);
        var previousDevice = CurrentDevice;
        var open = new List<CudaGraph>(devices.Count);
        try
        {
            for (var r = 0; r < devices.Count; r++)
            {
                SetCurrentDevice(devices[r]);
                open.Add(BeginCapture(streams[r]));
            }

            try
            {
                body();
            }
            catch (Exception e)
            {
                open.ForEach(g => g.Abandon());
                throw CaptureFailed(e);
            }

            for (var r = 0; r < devices.Count; r++)
            {
                SetCurrentDevice(devices[r]);
                open[r].EndCapture();
            }

            return [.. open];
        }
        finally
        {
            SetCurrentDevice(previousDevice);
        }
    }

    /// <summary>The error of a capture that failed mid-way (the inner exception says where).</summary>
    public static InvalidOperationException CaptureFailed(Exception inner) =>
        new("CUDA-graph capture of the decode step failed, and this process's CUDA state may no longer be usable; restart it with CudaGraphMode.Off and report the inner exception.", inner);

    /// <summary>
    /// Opens a capture on <paramref name="stream"/>, which becomes the current stream of its device (the current device,
    /// which must be the stream's: see <see cref="SetCurrentDevice"/>); the work issued until <see cref="EndCapture"/> is
    /// recorded. Several graphs can be open at once, one per stream (the ranks of a tensor-parallel step, each on its device).
    /// </summary>
    public static CudaGraph BeginCapture(CudaStreamHandle stream)
    {
        var symbols = Resolved.Value ?? throw new NotSupportedException(UnavailableReason);
        var graph = new CudaGraph();
        symbols.SetCurrentStream(stream);
        symbols.CaptureBegin(graph._self, 0, 0, CaptureModeThreadLocal);
        return graph;
    }

    /// <summary>Closes the capture opened by <see cref="BeginCapture"/>; the current device must be the graph's.</summary>
    public void EndCapture()
    {
        ObjectDisposedException.ThrowIf(_self is null, this);
        Resolved.Value!.CaptureEnd(_self);
    }

    /// <summary>
    /// Leaves a graph whose capture failed mid-way alive and unusable: ending or destroying it would raise a C++ exception
    /// inside libtorch, which aborts the process.
    /// </summary>
    public void Abandon() => _self = null;

    /// <summary>Launches the captured work on the current stream (asynchronously).</summary>
    public void Replay()
    {
        ObjectDisposedException.ThrowIf(_self is null, this);
        Resolved.Value!.Replay(_self);
    }

    /// <summary>
    /// Seconds per replay: the best of three series of <paramref name="replays"/> back-to-back replays, the device
    /// synchronised around each series; <paramref name="reset"/>, when given, runs before each series, off the clock.
    /// </summary>
    public double BestSecondsPerReplay(int replays, Action? reset = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(replays, 1);
        var best = double.MaxValue;
        for (var series = 0; series < 3; series++)
        {
            reset?.Invoke();
            torch.cuda.synchronize();
            var clock = Stopwatch.StartNew();
            for (var r = 0; r < replays; r++)
            {
                Replay();
            }

            torch.cuda.synchronize();
            best = Math.Min(best, clock.Elapsed.TotalSeconds / replays);
        }

        return best;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_self is null)
        {
            return;
        }

        Resolved.Value!.Destruct(_self);
        NativeMemory.Free(_self);
        _self = null;
    }

    private static Symbols? Resolve()
    {
        if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture != Architecture.X64 || !LoadedLibrary.EnsureTorchLoaded())
        {
            return null;
        }

        try
        {
            if (!torch.cuda.is_available())
            {
                return null;
            }
        }
        catch (Exception e) when (e is DllNotFoundException or NotSupportedException or InvalidOperationException)
        {
            return null;
        }

        // Constructor: CUDAGraph(bool keep_graph = false) since PyTorch 2.7, CUDAGraph() before (an extra argument is harmless).
        var construct = LoadedLibrary.Find("libtorch_cuda.so", "_ZN2at4cuda9CUDAGraphC1Eb", "_ZN2at4cuda9CUDAGraphC1Ev");
        var destruct = LoadedLibrary.Find("libtorch_cuda.so", "_ZN2at4cuda9CUDAGraphD1Ev");
        var begin = LoadedLibrary.Find("libtorch_cuda.so", "_ZN2at4cuda9CUDAGraph13capture_beginESt4pairIyyE21cudaStreamCaptureMode");
        var end = LoadedLibrary.Find("libtorch_cuda.so", "_ZN2at4cuda9CUDAGraph11capture_endEv");
        var replay = LoadedLibrary.Find("libtorch_cuda.so", "_ZN2at4cuda9CUDAGraph6replayEv");
        var pool = LoadedLibrary.Find("libc10_cuda.so", "_ZN3c104cuda17getStreamFromPoolEba");
        var current = LoadedLibrary.Find("libc10_cuda.so", "_ZN3c104cuda20getCurrentCUDAStreamEa");
        var setCurrent = LoadedLibrary.Find("libc10_cuda.so", "_ZN3c104cuda20setCurrentCUDAStreamENS0_10CUDAStreamE");
        var raw = LoadedLibrary.Find("libc10_cuda.so", "_ZNK3c104cuda10CUDAStream6streamEv");

        // Optional: only graphs over several devices switch the current device. set_device(DeviceIndex, bool force) since
        // PyTorch 2.4, set_device(DeviceIndex) before (an extra argument is harmless).
        var setDevice = LoadedLibrary.Find("libc10_cuda.so", "_ZN3c104cuda10set_deviceEab", "_ZN3c104cuda10set_deviceEa");
        var currentDevice = LoadedLibrary.Find("libc10_cuda.so", "_ZN3c104cuda14current_deviceEv");
        IntPtr[] all = [construct, destruct, begin, end, replay, pool, current, setCurrent, raw];
        if (all.Any(p => p == IntPtr.Zero))
        {
            return null;
        }

        return new Symbols(
            (delegate* unmanaged<void*, byte, void>)construct,
            (delegate* unmanaged<void*, void>)destruct,
            (delegate* unmanaged<void*, ulong, ulong, int, void>)begin,
            (delegate* unmanaged<void*, void>)end,
            (delegate* unmanaged<void*, void>)replay,
            (delegate* unmanaged<byte, sbyte, CudaStreamHandle>)pool,
            (delegate* unmanaged<sbyte, CudaStreamHandle>)current,
            (delegate* unmanaged<CudaStreamHandle, void>)setCurrent,
            (delegate* unmanaged<CudaStreamHandle*, IntPtr>)raw,
            (delegate* unmanaged<sbyte, byte, void>)setDevice,
            (delegate* unmanaged<sbyte>)currentDevice);
    }

    private sealed class Symbols(
        delegate* unmanaged<void*, byte, void> construct,
        delegate* unmanaged<void*, void> destruct,
        delegate* unmanaged<void*, ulong, ulong, int, void> captureBegin,
        delegate* unmanaged<void*, void> captureEnd,
        delegate* unmanaged<void*, void> replay,
        delegate* unmanaged<byte, sbyte, CudaStreamHandle> getStreamFromPool,
        delegate* unmanaged<sbyte, CudaStreamHandle> getCurrentStream,
        delegate* unmanaged<CudaStreamHandle, void> setCurrentStream,
        delegate* unmanaged<CudaStreamHandle*, IntPtr> rawStream,
        delegate* unmanaged<sbyte, byte, void> setDevice,
        delegate* unmanaged<sbyte> currentDevice)
    {
        public bool CanSwitchDevice => setDevice != null && currentDevice != null;

        public void SetDevice(sbyte device)
        {
            if (setDevice == null)
            {
                throw new NotSupportedException(DeviceSwitchUnavailableReason);
            }

            setDevice(device, 0);
        }

        // With only one device (or no current_device export) the current device can only be 0.
        public int CurrentDevice() => currentDevice == null ? 0 : currentDevice();

        public void Construct(void* self, byte keepGraph) => construct(self, keepGraph);

        public void Destruct(void* self) => destruct(self);

        // The mempool id is a std::pair<unsigned long long, unsigned long long> by value; {0, 0} gives the graph a private pool.
        public void CaptureBegin(void* self, ulong pool0, ulong pool1, int mode) => captureBegin(self, pool0, pool1, mode);

        public void CaptureEnd(void* self) => captureEnd(self);

        public void Replay(void* self) => replay(self);

        public CudaStreamHandle GetStreamFromPool(byte highPriority, sbyte device) => getStreamFromPool(highPriority, device);

        public CudaStreamHandle GetCurrentStream(sbyte device) => getCurrentStream(device);

        public void SetCurrentStream(CudaStreamHandle stream) => setCurrentStream(stream);

        // CUDAStream::stream() const: the cudaStream_t behind a c10 stream (this = the 16-byte value).
        public IntPtr RawStream(CudaStreamHandle* stream) => rawStream(stream);
    }
}
