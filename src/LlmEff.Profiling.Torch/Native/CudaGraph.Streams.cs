using TorchSharp;

namespace LlmEff.Profiling.Torch;

/// <summary>
/// libtorch's per-thread CUDA context, through the same exported symbols as the graphs: streams from its pool, the current
/// stream and device, and scopes that switch them for a capture or a timed run and put them back.
/// </summary>
internal sealed unsafe partial class CudaGraph
{
    /// <summary>A stream from libtorch's pool for the current device.</summary>
    public static CudaStreamHandle SideStream() => SideStream(-1);

    /// <summary>A stream from libtorch's pool for CUDA device <paramref name="device"/> (−1: the current device).</summary>
    public static CudaStreamHandle SideStream(int device)
    {
        var symbols = Resolved.Value ?? throw new NotSupportedException(UnavailableReason);
        return symbols.GetStreamFromPool(0, checked((sbyte)device));
    }

    /// <summary>The stream libtorch uses on this thread for CUDA device <paramref name="device"/> (−1: the current device).</summary>
    public static CudaStreamHandle CurrentStream(int device)
    {
        var symbols = Resolved.Value ?? throw new NotSupportedException(UnavailableReason);
        return symbols.GetCurrentStream(checked((sbyte)device));
    }

    /// <summary>Makes <paramref name="stream"/> the current stream of its device on this thread.</summary>
    public static void SetCurrentStream(CudaStreamHandle stream)
    {
        var symbols = Resolved.Value ?? throw new NotSupportedException(UnavailableReason);
        symbols.SetCurrentStream(stream);
    }

    /// <summary>
    /// Why the current CUDA device cannot be switched (libtorch's <c>c10::cuda::set_device</c> and <c>current_device</c> were
    /// not found), or null when it can. Only graphs of several devices need it: capture and replay use the current device.
    /// </summary>
    public static string? DeviceSwitchUnavailableReason =>
        Resolved.Value is not { } symbols ? UnavailableReason
        : symbols.CanSwitchDevice ? null
        : "libc10_cuda.so exports neither c10::cuda::set_device(DeviceIndex, bool) nor set_device(DeviceIndex), so graphs cannot be captured on several devices from one thread.";

    /// <summary>The current CUDA device of this thread.</summary>
    public static int CurrentDevice
    {
        get
        {
            var symbols = Resolved.Value ?? throw new NotSupportedException(UnavailableReason);
            return symbols.CurrentDevice();
        }
    }

    /// <summary>
    /// Runs <paramref name="body"/> with CUDA device <paramref name="device"/> current, then restores the previous one; runs
    /// it as it is where the device already is current or libtorch's CUDA backend is absent (nothing to switch).
    /// </summary>
    public static T OnDevice<T>(int device, Func<T> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        if (Resolved.Value is null)
        {
            return body();
        }

        var previous = CurrentDevice;
        SetCurrentDevice(device);
        try
        {
            return body();
        }
        finally
        {
            SetCurrentDevice(previous);
        }
    }

    /// <summary>
    /// Runs <paramref name="body"/> with <paramref name="streams"/> current on their devices (<paramref name="devices"/>, in
    /// the same order), then makes the devices' previous streams and this thread's previous device current again.
    /// </summary>
    public static void OnStreams(IReadOnlyList<int> devices, IReadOnlyList<CudaStreamHandle> streams, Action body)
    {
        ArgumentNullException.ThrowIfNull(devices);
        ArgumentNullException.ThrowIfNull(streams);
        ArgumentNullException.ThrowIfNull(body);
        var previousDevice = CurrentDevice;
        var previous = devices.Select(CurrentStream).ToArray();
        try
        {
            foreach (var stream in streams)
            {
                SetCurrentStream(stream);
            }

            body();
        }
        finally
        {
            foreach (var stream in previous)
            {
                SetCurrentStream(stream);
            }

            SetCurrentDevice(previousDevice);
        }
    }

    /// <summary>Makes <paramref name="device"/> the current CUDA device of this thread (a no-op when it already is).</summary>
    public static void SetCurrentDevice(int device)
    {
        var symbols = Resolved.Value ?? throw new NotSupportedException(UnavailableReason);
        if (symbols.CurrentDevice() != device)
        {
            symbols.SetDevice(checked((sbyte)device));
        }
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
    public static IntPtr CurrentRawStream() => CurrentRawStream(-1);

    /// <summary>The <c>cudaStream_t</c> libtorch currently uses on this thread for CUDA device <paramref name="device"/> (−1: the current device).</summary>
    public static IntPtr CurrentRawStream(int device)
    {
        var symbols = Resolved.Value ?? throw new NotSupportedException(UnavailableReason);
        var current = symbols.GetCurrentStream(checked((sbyte)device));
        return symbols.RawStream(&current);
    }

    /// <summary>Waits for every listed CUDA device, each once (a timing or capture boundary over several GPUs).</summary>
    public static void SynchronizeDevices(IEnumerable<int> devices)
    {
        ArgumentNullException.ThrowIfNull(devices);
        foreach (var d in devices.Distinct())
        {
            torch.cuda.synchronize(torch.device(DeviceType.CUDA, d));
        }
    }
}
