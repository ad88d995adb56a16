using static TorchSharp.torch;

namespace LlmEff.Profiling.Torch;

/// <summary>
/// What the run-time compiled decode kernels share: the element type (bf16 bits or fp32) with its load and
/// round-to-nearest-even store, and compiling a source once per key for the current CUDA device.
/// </summary>
internal static class RuntimeKernels
{
    /// <summary>
    /// <c>T</c>, <c>ld</c> (to fp32) and <c>st</c> (from fp32, rounded to nearest even as libtorch rounds; NaN and
    /// infinity kept) for bf16, or for fp32 where <c>LLMEFF_FP32</c> is defined.
    /// </summary>
    public const string ElementType = """
        #if LLMEFF_FP32
        typedef float T;
        __device__ __forceinline__ float ld(T v) { return v; }
        __device__ __forceinline__ T st(float f) { return f; }
        #else
        typedef unsigned short T; // bf16 bits
        __device__ __forceinline__ float ld(T v) { return __uint_as_float(((unsigned int)v) << 16); }
        __device__ __forceinline__ T st(float f) {
            unsigned int u = __float_as_uint(f);
            if ((u & 0x7f800000u) == 0x7f800000u) return (T)((u >> 16) | ((u & 0xffffu) ? 0x40u : 0u)); // inf, NaN
            u += 0x7fffu + ((u >> 16) & 1u); // round to nearest even
            return (T)(u >> 16);
        }
        #endif

        """;

    /// <summary>
    /// <c>GRID_DEPENDENCY()</c>, the first statement of every kernel here before it touches memory another kernel writes:
    /// in a program built for dependent launches (<c>LLMEFF_DEPENDENT_LAUNCH</c>, see
    /// <see cref="CudaRuntimeCompiler.DependentLaunches"/>) on sm_90 and later it waits until the kernel before it in the
    /// stream has finished and its writes are visible (<c>griddepcontrol.wait</c>), then lets the kernel after it be
    /// scheduled (<c>griddepcontrol.launch_dependents</c>), and <c>DEPENDENT_LAUNCH</c> is 1 so that a kernel may start
    /// reading what its predecessor does not write before the wait. Elsewhere both are empty / 0 and the program is the
    /// one launched in order.
    /// </summary>
    public const string GridDependency = """
        #if defined(LLMEFF_DEPENDENT_LAUNCH) && defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
        #define DEPENDENT_LAUNCH 1
        #define GRID_DEPENDENCY() asm volatile("griddepcontrol.wait;\n\tgriddepcontrol.launch_dependents;" ::: "memory")
        #else
        #define DEPENDENT_LAUNCH 0
        #define GRID_DEPENDENCY()
        #endif

        """;

    /// <summary>
    /// <c>l2_prefetch(p, bytes)</c>: asks the L2 cache for <c>[p, p + bytes)</c> ahead of the kernel that reads it, the
    /// lines spread over every thread of the launching grid; returns at once (nothing waits for the lines). <c>PF_MODE</c>
    /// (a <see cref="Torch.WeightPrefetch"/> value, 0 when not defined) picks one prefetch per 128-byte line with priority
    /// evict_last (1, 2, 4: so the streaming reads in between do not push them out first) or bulk prefetches of 16 KB (3).
    /// </summary>
    public const string Prefetch = """
        #ifndef PF_MODE
        #define PF_MODE 0
        #endif
        __device__ __forceinline__ void l2_prefetch(const char* p, long long bytes) {
        #if PF_MODE != 0
            const long long nt = (long long)gridDim.x * gridDim.y * gridDim.z * blockDim.x;
            const long long t = ((long long)(blockIdx.z * gridDim.y + blockIdx.y) * gridDim.x + blockIdx.x) * blockDim.x + threadIdx.x;
        #if PF_MODE == 3
            // Block-fastest, so that the few requests spread over every block's SM (each SM's copy engine sends its own).
            const long long nb = (long long)gridDim.x * gridDim.y * gridDim.z;
            const long long tb = (long long)threadIdx.x * nb + (t / blockDim.x);
            #pragma unroll 1
            for (long long o = tb * 16384; o < bytes; o += nt * 16384) {
                unsigned int n = (unsigned int)(bytes - o < 16384 ? bytes - o : 16384) & ~15u;
                if (n) asm volatile("cp.async.bulk.prefetch.L2.global [%0], %1;" :: "l"(p + o), "r"(n) : "memory");
            }
        #else
            #pragma unroll 1
            for (long long o = t * 128; o < bytes; o += nt * 128) asm volatile("prefetch.global.L2::evict_last [%0];" :: "l"(p + o));
        #endif
        #endif
        }

        """;

    /// <summary>
    /// The whole program NVRTC compiles for <paramref name="source"/> in <paramref name="dtype"/>: the element type's
    /// definitions and <see cref="GridDependency"/>, then its defines and source; built for dependent launches where
    /// <paramref name="dependentLaunches"/> is true (<see cref="Compile"/> passes <see cref="CudaRuntimeCompiler.DependentLaunches"/>).
    /// </summary>
    public static string Text(ScalarType dtype, KernelSource source, bool dependentLaunches = false) =>
        (dtype == ScalarType.Float32 ? "#define LLMEFF_FP32 1\n" : string.Empty)
        + (dependentLaunches ? "#define LLMEFF_DEPENDENT_LAUNCH 1\n" : string.Empty)
        + ElementType + GridDependency + source.Defines + source.Source;

    /// <summary>
    /// The kernel set of <paramref name="key"/> from <paramref name="cache"/>, or compiled now: <see cref="Text"/> of
    /// <paramref name="source"/> for <paramref name="dtype"/>, its kernels handed to <paramref name="create"/>. Null with the reason where the dtype is not bf16
    /// or fp32, NVRTC or the driver is missing, or compiling fails (the caller then runs the libtorch ops instead).
    /// </summary>
    public static (TKernels? Kernels, string? Reason) Compile<TKey, TKernels>(
        Dictionary<TKey, (TKernels?, string?)> cache, TKey key, ScalarType dtype, KernelSource source,
        Func<CudaRuntimeCompiler, IReadOnlyDictionary<string, IntPtr>, TKernels> create)
        where TKey : notnull
        where TKernels : class
    {
        lock (cache)
        {
            if (cache.TryGetValue(key, out var done))
            {
                return done;
            }

            (TKernels?, string?) result;
            if (dtype is not (ScalarType.BFloat16 or ScalarType.Float32))
            {
                result = (null, $"{source.What} are built for bf16 and fp32, not {dtype}.");
            }
            else
            {
                // A runtime call makes libtorch's (primary) context current on this thread, which the driver API needs.
                cuda.synchronize();
                var (compiler, reason) = CudaRuntimeCompiler.Load();
                var dependent = CudaRuntimeCompiler.DependentLaunches;
                try
                {
                    result = compiler is null ? (null, reason) : (create(compiler, compiler.Compile(Text(dtype, source, dependent), $"llmeff_{source.Kernels[0]}.cu", source.Kernels, dependent)), null);
                }
                catch (InvalidOperationException e)
                {
                    result = (null, e.Message);
                }
            }

            cache[key] = result;
            return result;
        }
    }
}
