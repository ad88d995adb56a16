namespace LlmEff.Profiling.Torch;

/// <summary>An NCCL call returned an error; the message carries NCCL's own description of it.</summary>
public sealed class NcclException : InvalidOperationException
{
    /// <summary>Creates the exception for <paramref name="function"/> failing with <paramref name="result"/>.</summary>
    /// <param name="function">The NCCL function that failed, e.g. <c>ncclAllReduce</c>.</param>
    /// <param name="result">The status it returned.</param>
    /// <param name="errorString">NCCL's text for the status (<c>ncclGetErrorString</c>).</param>
    /// <param name="lastError">NCCL's detail on the last error (<c>ncclGetLastError</c>); may be empty.</param>
    public NcclException(string function, NcclResult result, string errorString, string lastError)
        : base(Describe(function, result, errorString, lastError))
    {
        Function = function;
        Result = result;
        ErrorString = errorString ?? string.Empty;
        LastError = lastError ?? string.Empty;
    }

    /// <summary>The NCCL function that failed.</summary>
    public string Function { get; }

    /// <summary>The <c>ncclResult_t</c> it returned.</summary>
    public NcclResult Result { get; }

    /// <summary>NCCL's text for <see cref="Result"/>.</summary>
    public string ErrorString { get; }

    /// <summary>NCCL's detail on the failure; empty where NCCL gave none.</summary>
    public string LastError { get; }

    private static string Describe(string function, NcclResult result, string errorString, string lastError)
    {
        var detail = string.IsNullOrWhiteSpace(lastError) ? string.Empty : $" NCCL says: {lastError.Trim()}";
        return $"{function} failed with {result} ({(int)result}): {errorString}.{detail} Setting NCCL_DEBUG=WARN (or INFO) in the environment makes NCCL log why.";
    }
}
