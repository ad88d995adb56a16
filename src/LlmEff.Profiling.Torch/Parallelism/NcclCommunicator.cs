using System.Collections.ObjectModel;
using TorchSharp;

namespace LlmEff.Profiling.Torch;

/// <summary>
/// The tensor-parallel all-reduce on GPUs through NCCL: one communicator per GPU of this process, made together by
/// <c>ncclCommInitAll</c>, and a sum over ranks as one group of <c>ncclAllReduce</c> calls. Works for any number of
/// GPUs, one included (a one-rank sum leaves the tensor as it is but still runs NCCL). Calls are enqueued on each GPU's
/// current libtorch stream, where the ops that produced the tensors ran (the legacy default stream outside graph
/// capture, the capture stream inside one, so a captured step records its all-reduces), so they are ordered after those
/// ops and before the ops that read the result; the call returns before the GPUs finish, as torch ops do.
/// Not thread-safe: use one instance from one thread. Dispose it: NCCL's resources are not freed by the finalizer.
/// </summary>
public sealed unsafe class NcclCommunicator : ITensorAllReduce
{
    private readonly IntPtr[] _comms;
    private readonly int[] _devices;
    private bool _disposed;

    private NcclCommunicator(IntPtr[] comms, int[] devices)
    {
        _comms = comms;
        _devices = devices;
        Devices = new ReadOnlyCollection<int>(devices);
    }

    /// <summary>True when NCCL (<c>libnccl.so.2</c>) can be loaded in this process. Says nothing about GPUs.</summary>
    public static bool IsAvailable => NcclNative.LoadError is null;

    /// <summary>The loaded NCCL's version (<c>ncclGetVersion</c>), e.g. 2.28.3.</summary>
    /// <exception cref="NcclUnavailableException">NCCL cannot be loaded.</exception>
    public static Version Version
    {
        get
        {
            NcclNative.EnsureLoaded();
            int code;
            NcclNative.Check(NcclNative.ncclGetVersion(&code), "ncclGetVersion");
            return ParseVersion(code);
        }
    }

    /// <inheritdoc />
    public int Ranks => _devices.Length;

    /// <summary>The CUDA device of each rank, in rank order.</summary>
    public IReadOnlyList<int> Devices { get; }

    /// <summary>Creates one communicator per device; rank r runs on <paramref name="cudaDevices"/>[r].</summary>
    /// <param name="cudaDevices">Distinct CUDA device indices visible to this process, at least one.</param>
    /// <exception cref="ArgumentException">The list is empty, repeats a device or names one that is not visible.</exception>
    /// <exception cref="InvalidOperationException">No CUDA device is visible.</exception>
    /// <exception cref="NcclUnavailableException">NCCL cannot be loaded.</exception>
    /// <exception cref="NcclException">NCCL failed to create the communicators.</exception>
    public static NcclCommunicator Create(IReadOnlyList<int> cudaDevices)
    {
        // Everything that needs no NCCL is checked first, so bad arguments get their own message on any machine.
        var devices = ValidateDevices(cudaDevices);
        var visible = torch.cuda.device_count();
        if (visible == 0)
        {
            throw new InvalidOperationException(
                "No CUDA device is visible to this process (torch.cuda.device_count() is 0): NCCL needs GPUs and a CUDA build of libtorch. "
                + "Check CUDA_VISIBLE_DEVICES and the TorchSharp backend, or use HostAllReduce without GPUs.");
        }

        foreach (var d in devices)
        {
            if (d >= visible)
            {
                throw new ArgumentOutOfRangeException(nameof(cudaDevices), d, $"CUDA device {d} is not visible: this process sees {visible} device(s), 0 to {visible - 1} (check CUDA_VISIBLE_DEVICES).");
            }
        }

        NcclNative.EnsureLoaded();
        var comms = new IntPtr[devices.Length];
        fixed (IntPtr* c = comms)
        fixed (int* d = devices)
        {
            NcclNative.Check(NcclNative.ncclCommInitAll(c, devices.Length, d), "ncclCommInitAll");
        }

        var communicator = new NcclCommunicator(comms, devices);
        try
        {
            communicator.CheckRanks();
        }
        catch
        {
            communicator.Dispose();
            throw;
        }

        return communicator;
    }

    /// <summary>Sums the ranks' tensors with NCCL, leaving the total in every rank's tensor.</summary>
    /// <param name="perRank">One contiguous CUDA tensor per rank on the rank's device, all of the same shape and dtype.</param>
    /// <exception cref="ArgumentException">A tensor is missing, on the wrong device, not contiguous, of another shape or dtype, or of a dtype NCCL cannot sum.</exception>
    /// <exception cref="NcclException">NCCL reported an error.</exception>
    public void SumInPlace(IReadOnlyList<torch.Tensor> perRank)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var (type, count) = NcclTensors.Validate(_devices, perRank);
        if (count == 0)
        {
            return;
        }

        var pointers = new IntPtr[Ranks];
        var streams = new IntPtr[Ranks];
        var libtorchStreams = CudaGraph.IsAvailable;
        for (var r = 0; r < Ranks; r++)
        {
            pointers[r] = NcclTensors.DataPointer(perRank[r]);
            // Without libtorch's stream entry points TorchSharp has only the legacy default stream (0).
            streams[r] = libtorchStreams ? CudaGraph.CurrentRawStream(_devices[r]) : IntPtr.Zero;
        }

        // One thread driving several GPUs must group the calls, or the first would wait for peers that never start.
        NcclNative.Check(NcclNative.ncclGroupStart(), "ncclGroupStart");
        NcclException? failure = null;
        for (var r = 0; r < Ranks && failure is null; r++)
        {
            var result = NcclNative.ncclAllReduce(pointers[r], pointers[r], (nuint)count, type, NcclNative.RedOpSum, _comms[r], streams[r]);
            if (result != NcclResult.Success)
            {
                failure = new NcclException("ncclAllReduce", result, NcclNative.ErrorString(result), NcclNative.LastError(_comms[r]));
            }
        }

        // The group is closed even after a failed call, so NCCL's group depth stays balanced.
        var end = NcclNative.ncclGroupEnd();
        GC.KeepAlive(perRank);
        if (failure is not null)
        {
            throw failure;
        }

        NcclNative.Check(end, "ncclGroupEnd", _comms[0]);
    }

    /// <summary>Destroys the communicators (<c>ncclCommDestroy</c>). Later calls do nothing.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        for (var r = 0; r < _comms.Length; r++)
        {
            if (_comms[r] != IntPtr.Zero)
            {
                // A failed destroy leaves the caller nothing to do: the communicator is unusable either way.
                _ = NcclNative.ncclCommDestroy(_comms[r]);
                _comms[r] = IntPtr.Zero;
            }
        }
    }

    /// <summary>Reads NCCL's version code: major·10000 + minor·100 + patch since 2.9, major·1000 + minor·100 + patch before.</summary>
    internal static Version ParseVersion(int code)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(code);
        return code >= 10000
            ? new Version(code / 10000, code % 10000 / 100, code % 100)
            : new Version(code / 1000, code % 1000 / 100, code % 100);
    }

    /// <summary>Checks the device list before any native call: non-empty, non-negative, distinct.</summary>
    internal static int[] ValidateDevices(IReadOnlyList<int> cudaDevices)
    {
        ArgumentNullException.ThrowIfNull(cudaDevices);
        if (cudaDevices.Count == 0)
        {
            throw new ArgumentException("Pass at least one CUDA device index (one per rank), e.g. [0] for a one-rank communicator.", nameof(cudaDevices));
        }

        var devices = cudaDevices.ToArray();
        var seen = new HashSet<int>();
        for (var r = 0; r < devices.Length; r++)
        {
            if (devices[r] < 0)
            {
                throw new ArgumentOutOfRangeException(nameof(cudaDevices), devices[r], $"Rank {r}'s CUDA device index is {devices[r]}; device indices are 0 or more.");
            }

            if (!seen.Add(devices[r]))
            {
                throw new ArgumentException($"CUDA device {devices[r]} is listed twice (rank {Array.IndexOf(devices, devices[r])} and rank {r}); each rank needs its own GPU.", nameof(cudaDevices));
            }
        }

        return devices;
    }

    private void CheckRanks()
    {
        for (var r = 0; r < _comms.Length; r++)
        {
            int count, device;
            NcclNative.Check(NcclNative.ncclCommCount(_comms[r], &count), "ncclCommCount", _comms[r]);
            NcclNative.Check(NcclNative.ncclCommCuDevice(_comms[r], &device), "ncclCommCuDevice", _comms[r]);
            if (count != Ranks || device != _devices[r])
            {
                throw new InvalidOperationException($"NCCL communicator {r} reports {count} rank(s) on cuda:{device}, expected {Ranks} on cuda:{_devices[r]}.");
            }
        }
    }
}
