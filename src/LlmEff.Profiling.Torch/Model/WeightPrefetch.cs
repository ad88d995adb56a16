namespace LlmEff.Profiling.Torch;

/// <summary>
/// Where the fused decode step asks the L2 cache to fetch a layer's output-projection weights before the GEMM that reads
/// them: attention at small batches is latency-bound and leaves the memory idle for several microseconds a layer, time
/// in which the projection's weights can stream into the L2 (50 MB on an H100). An experiment's switch (the GPU harness
/// sets it before building a decoder); the fused kernels are compiled once per mode.
/// </summary>
internal enum WeightPrefetch
{
    /// <summary>No prefetch (the engine's step).</summary>
    Off = 0,

    /// <summary>The rotary + cache-write kernel issues one L2 prefetch per 128-byte line of the weights (priority evict_last).</summary>
    Rotary = 1,

    /// <summary>The decode attention kernel issues them, after its first tile's loads; the rotary kernel where that kernel does not run.</summary>
    Attention = 2,

    /// <summary>The rotary + cache-write kernel issues bulk L2 prefetches of 16 KB (sm_90's copy engine sends the lines).</summary>
    RotaryBulk = 3,

    /// <summary>As <see cref="Attention"/>, and then the first <see cref="DecodeKernels.FfnPrefetchBytes"/> of a dense FFN's first weight.</summary>
    AttentionAndFfn = 4,
}
