using System.Runtime.InteropServices;
using TorchSharp;

namespace LlmEff.Profiling.Torch;

/// <summary>
/// libtorch's <c>at::cuda::CUDAGraph</c>, which TorchSharp does not expose, bound through its exported C++ symbols
/// (Linux x86-64 builds of libtorch). A captured graph replays a whole sequence of kernel launches with one host call,
/// which is what removes per-op host dispatch from a decode step. C++ exceptions cannot cross into .NET, so callers
/// capture only work known to be capturable (no host synchronisation, static shapes).
/// </summary>
internal sealed unsafe class CudaGraph : IDisposable
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

    /// <summary>
    /// Captures the CUDA work that <paramref name="body"/> issues on the calling thread. The capture runs on a side stream
    /// (CUDA cannot capture the default stream), which becomes current for the body and is restored afterwards; the caller
    /// should have run the body once on that stream beforehand (see <see cref="RunOnSideStream"/>) so that lazily created
    /// handles and workspaces exist before capture.
    /// </summary>
    public static CudaGraph Capture(Action body, CudaStreamHandle sideStream)
    {
        ArgumentNullException.ThrowIfNull(body);
        var symbols = Resolved.Value ?? throw new NotSupportedException(UnavailableReason);
        var graph = new CudaGraph();
        var previous = symbols.GetCurrentStream(-1);
        symbols.SetCurrentStream(sideStream);
        try
        {
            symbols.CaptureBegin(graph._self, 0, 0, CaptureModeThreadLocal);
            try
            {
                body();
            }
            catch (Exception e)
            {
                // The capture is invalidated, and ending it would raise a C++ exception inside libtorch, which aborts the
                // process; the graph object is left alive (leaked) rather than destroyed mid-capture.
                graph._self = null;
                throw new InvalidOperationException(
                    "CUDA-graph capture of the decode step failed, and this process's CUDA state may no longer be usable; restart it with CudaGraphMode.Off and report the inner exception.",
                    e);
            }

            symbols.CaptureEnd(graph._self);
        }
        finally
        {
            symbols.SetCurrentStream(previous);
        }

        return graph;
    }

    /// <summary>A stream from libtorch's pool for the current device.</summary>
    public static CudaStreamHandle SideStream()
    {
        var symbols = Resolved.Value ?? throw new NotSupportedException(UnavailableReason);
        return symbols.GetStreamFromPool(0, -1);
    }

    /// <summary>Runs <paramref name="body"/> with <paramref name="stream"/> current, synchronising the device before and after.</summary>
    public static void RunOnSideStream(Action body, CudaStreamHandle stream)
    {
        ArgumentNullException.ThrowIfNull(body);
        var symbols = Resolved.Value ?? throw new NotSupportedException(UnavailableReason);
        torch.cuda.synchronize();
        var previous = symbols.GetCurrentStream(-1);
        symbols.SetCurrentStream(stream);
        try
        {
            body();
        }
        finally
        {
            torch.cuda.synchronize();
            symbols.SetCurrentStream(previous);
        }
    }

    /// <summary>The <c>cudaStream_t</c> libtorch currently uses on this thread (the capture stream while capturing).</summary>
    public static IntPtr CurrentRawStream()
    {
        var symbols = Resolved.Value ?? throw new NotSupportedException(UnavailableReason);
        var current = symbols.GetCurrentStream(-1);
        return symbols.RawStream(&current);
    }

    /// <summary>Launches the captured work on the current stream (asynchronously).</summary>
    public void Replay()
    {
        ObjectDisposedException.ThrowIf(_self is null, this);
        Resolved.Value!.Replay(_self);
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
            (delegate* unmanaged<CudaStreamHandle*, IntPtr>)raw);
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
        delegate* unmanaged<CudaStreamHandle*, IntPtr> rawStream)
    {
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
