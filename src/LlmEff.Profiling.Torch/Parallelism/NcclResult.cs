namespace LlmEff.Profiling.Torch;

/// <summary>NCCL's <c>ncclResult_t</c>: the status every NCCL call returns (values as in <c>nccl.h</c>).</summary>
public enum NcclResult
{
    /// <summary>ncclSuccess: the call succeeded.</summary>
    Success = 0,

    /// <summary>ncclUnhandledCudaError: a CUDA call failed inside NCCL.</summary>
    UnhandledCudaError = 1,

    /// <summary>ncclSystemError: a system call failed (memory, sockets, shared memory).</summary>
    SystemError = 2,

    /// <summary>ncclInternalError: an internal check failed (usually an NCCL bug or memory corruption).</summary>
    InternalError = 3,

    /// <summary>ncclInvalidArgument: a pointer or value passed to NCCL was invalid.</summary>
    InvalidArgument = 4,

    /// <summary>ncclInvalidUsage: the calls were made in a wrong order or combination.</summary>
    InvalidUsage = 5,

    /// <summary>ncclRemoteError: a peer process failed or disconnected.</summary>
    RemoteError = 6,

    /// <summary>ncclInProgress: a non-blocking operation has not finished.</summary>
    InProgress = 7,
}
