using System.Runtime.InteropServices;

namespace LlmEff.Profiling.Torch;

/// <summary>
/// P/Invoke declarations for NCCL (<c>libnccl.so.2</c>, <c>nccl.h</c> of NCCL 2.x). The library is found the way every
/// P/Invoke library is: the application's native folders, then the loader path (<c>LD_LIBRARY_PATH</c>; the GPU
/// machine's <c>run.sh</c> adds PyTorch's <c>nvidia/nccl/lib</c>). Handles and buffers are raw pointers; strings
/// returned by NCCL are static and must not be freed, so they come back as pointers too.
/// </summary>
internal static unsafe partial class NcclNative
{
    public const string Library = "libnccl.so.2";

    /// <summary>ncclSum in <c>ncclRedOp_t</c>.</summary>
    public const int RedOpSum = 0;

    private static readonly Lazy<Exception?> LoadFailure = new(TryLoad);

    /// <summary>The loader's reason when <see cref="Library"/> cannot be loaded, or null once it is loaded.</summary>
    public static Exception? LoadError => LoadFailure.Value;

    [LibraryImport(Library)]
    public static partial NcclResult ncclGetVersion(int* version);

    [LibraryImport(Library)]
    public static partial NcclResult ncclCommInitAll(IntPtr* comms, int deviceCount, int* devices);

    [LibraryImport(Library)]
    public static partial NcclResult ncclCommDestroy(IntPtr comm);

    [LibraryImport(Library)]
    public static partial NcclResult ncclCommCount(IntPtr comm, int* count);

    [LibraryImport(Library)]
    public static partial NcclResult ncclCommCuDevice(IntPtr comm, int* device);

    [LibraryImport(Library)]
    public static partial NcclResult ncclAllReduce(IntPtr sendBuffer, IntPtr receiveBuffer, nuint count, NcclDataType dataType, int op, IntPtr comm, IntPtr stream);

    [LibraryImport(Library)]
    public static partial NcclResult ncclGroupStart();

    [LibraryImport(Library)]
    public static partial NcclResult ncclGroupEnd();

    [LibraryImport(Library)]
    public static partial byte* ncclGetErrorString(NcclResult result);

    [LibraryImport(Library)]
    public static partial byte* ncclGetLastError(IntPtr comm);

    /// <summary>Throws <see cref="NcclUnavailableException"/> unless NCCL is loaded.</summary>
    public static void EnsureLoaded()
    {
        if (LoadError is { } error)
        {
            throw new NcclUnavailableException(error);
        }
    }

    /// <summary>Throws <see cref="NcclException"/> with NCCL's own description when <paramref name="result"/> is not success.</summary>
    public static void Check(NcclResult result, string function, IntPtr comm = default)
    {
        if (result != NcclResult.Success)
        {
            throw new NcclException(function, result, ErrorString(result), LastError(comm));
        }
    }

    /// <summary>NCCL's text for a result code.</summary>
    public static string ErrorString(NcclResult result) => Marshal.PtrToStringUTF8((IntPtr)ncclGetErrorString(result)) ?? string.Empty;

    /// <summary>NCCL's detail on the calling thread's last error; empty where NCCL is older than 2.13 and lacks the function.</summary>
    public static string LastError(IntPtr comm)
    {
        try
        {
            return Marshal.PtrToStringUTF8((IntPtr)ncclGetLastError(comm)) ?? string.Empty;
        }
        catch (EntryPointNotFoundException)
        {
            return string.Empty;
        }
    }

    private static Exception? TryLoad()
    {
        // Same probing as the [LibraryImport]s above use, so "loads here" means "binds there".
        try
        {
            var handle = NativeLibrary.Load(Library, typeof(NcclNative).Assembly, null);
            foreach (var symbol in new[] { "ncclGetVersion", "ncclCommInitAll", "ncclCommDestroy", "ncclCommCount", "ncclCommCuDevice", "ncclAllReduce", "ncclGroupStart", "ncclGroupEnd", "ncclGetErrorString" })
            {
                if (!NativeLibrary.TryGetExport(handle, symbol, out _))
                {
                    return new EntryPointNotFoundException($"{Library} has no export named {symbol}; NCCL 2.x is required.");
                }
            }

            return null;
        }
        catch (DllNotFoundException ex)
        {
            return ex;
        }
        catch (BadImageFormatException ex)
        {
            return ex;
        }
    }
}
