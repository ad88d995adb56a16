namespace LlmEff.Profiling.Torch;

/// <summary>NCCL's <c>ncclDataType_t</c> (values as in <c>nccl.h</c>; bfloat16 needs NCCL 2.10 or newer).</summary>
internal enum NcclDataType
{
    Int8 = 0,
    Uint8 = 1,
    Int32 = 2,
    Uint32 = 3,
    Int64 = 4,
    Uint64 = 5,
    Float16 = 6,
    Float32 = 7,
    Float64 = 8,
    BFloat16 = 9,
}
