using System.Globalization;
using static TorchSharp.torch;

namespace LlmEff.Profiling.Torch;

/// <summary>
/// Decode attention of one token per query over its KV cache, compiled at run time with NVRTC for one head size and
/// group size (the constants unroll the kernel and keep its accumulators in registers). Split-KV ("flash decoding"):
/// the context of each (query, KV head) is cut into chunks so that even one query fills the GPU; each block reads its
/// chunk's keys and values once for all the query heads of the group (GQA), keeps an online softmax in fp32, and a
/// second kernel merges the chunks. Unlike the SDPA call it replaces, it reads the cache in place (the
/// <c>[T, H + 2KV, HD]</c> layout, no strided views) and only the positions up to the device-held one, not the whole
/// window the graph was captured for.
/// </summary>
internal sealed unsafe class DecodeAttention
{
    /// <summary>Warps per block of the chunk kernel.</summary>
    private const int Warps = 4;

    /// <summary>Blocks the split aims for: about two waves of an H100's 132 SMs.</summary>
    private const int TargetBlocks = 264;

    /// <summary>Fewest positions per chunk: below this the merge costs more than the parallelism gains.</summary>
    private const int MinChunkTokens = 64;

    private const string Source = """
        #define E (HD / 32)
        #define KU 4
        #define NEG_INF (-__int_as_float(0x7f800000))

        __device__ __forceinline__ float warp_sum(float v) {
            #pragma unroll
            for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
            return v;
        }

        // Block (s, kv, b): positions [s·C, min(L, s·C + C)) of query b's cache for the G query heads of KV head kv, with
        // L = *pos + 1. Lane l holds values l, l + 32, ... of a row (coalesced loads); each warp takes KU positions at a time.
        // One chunk (gridDim.x == 1): writes the normalised output, heads in the output projection's (group, KV head)
        // order; else the chunk's [HD unnormalised sums, max, sum of exponentials] per head to part [B, H, S, HD + 2].
        extern "C" __global__ void __launch_bounds__(WARPS * 32) decode_attention(const T* q, const T* cache, const long long* pos, T* out, float* part, int H, int KV, long long cache_stride, int C, float scale) {
            __shared__ float sh[WARPS][G][HD + 2];
            const int s = blockIdx.x, kv = blockIdx.y, b = blockIdx.z, S = gridDim.x;
            const int w = threadIdx.x >> 5, l = threadIdx.x & 31;
            const int L = (int)(*pos) + 1;
            const int j0 = s * C, j1 = min(L, j0 + C);
            const long long rs = (long long)(H + 2 * KV) * HD;
            const T* qb = q + ((long long)b * H + kv * G) * HD;
            const T* kb = cache + b * cache_stride + (long long)(H + kv) * HD;
            const T* vb = kb + (long long)KV * HD;
            float qr[G][E], acc[G][E], m[G], sum[G];
            #pragma unroll
            for (int g = 0; g < G; g++) {
                m[g] = NEG_INF; sum[g] = 0.f;
                #pragma unroll
                for (int e = 0; e < E; e++) { qr[g][e] = ld(qb[g * HD + e * 32 + l]) * scale; acc[g][e] = 0.f; }
            }

            for (int j = j0 + w * KU; j < j1; j += WARPS * KU) {
                float k[KU][E], v[KU][E];
                #pragma unroll
                for (int u = 0; u < KU; u++) {
                    bool ok = j + u < j1;
                    #pragma unroll
                    for (int e = 0; e < E; e++) {
                        k[u][e] = ok ? ld(kb[(j + u) * rs + e * 32 + l]) : 0.f;
                        v[u][e] = ok ? ld(vb[(j + u) * rs + e * 32 + l]) : 0.f;
                    }
                }

                #pragma unroll
                for (int u = 0; u < KU; u++) {
                    if (j + u >= j1) break;
                    #pragma unroll
                    for (int g = 0; g < G; g++) {
                        float d = 0.f;
                        #pragma unroll
                        for (int e = 0; e < E; e++) d += qr[g][e] * k[u][e];
                        d = warp_sum(d);
                        float mn = fmaxf(m[g], d), c = __expf(m[g] - mn), p = __expf(d - mn);
                        sum[g] = sum[g] * c + p;
                        #pragma unroll
                        for (int e = 0; e < E; e++) acc[g][e] = acc[g][e] * c + p * v[u][e];
                        m[g] = mn;
                    }
                }
            }

            #pragma unroll
            for (int g = 0; g < G; g++) {
                #pragma unroll
                for (int e = 0; e < E; e++) sh[w][g][e * 32 + l] = acc[g][e];
                if (l == 0) { sh[w][g][HD] = m[g]; sh[w][g][HD + 1] = sum[g]; }
            }

            __syncthreads();
            for (int i = threadIdx.x; i < G * HD; i += WARPS * 32) {
                int g = i / HD, d = i - g * HD;
                float M = NEG_INF;
                #pragma unroll
                for (int ww = 0; ww < WARPS; ww++) M = fmaxf(M, sh[ww][g][HD]);
                float num = 0.f, den = 0.f;
                if (M != NEG_INF) {
                    #pragma unroll
                    for (int ww = 0; ww < WARPS; ww++) {
                        float f = __expf(sh[ww][g][HD] - M);
                        num += f * sh[ww][g][d];
                        den += f * sh[ww][g][HD + 1];
                    }
                }

                int h = kv * G + g;
                if (S == 1) {
                    out[(long long)b * H * HD + (g * KV + kv) * HD + d] = st(num / den);
                } else {
                    float* pp = part + (((long long)b * H + h) * S + s) * (HD + 2);
                    pp[d] = num;
                    if (d == 0) { pp[HD] = M; pp[HD + 1] = den; }
                }
            }
        }

        // Block (h, b), one thread per value: merges the S chunks of head h of query b.
        extern "C" __global__ void decode_attention_merge(const float* part, T* out, int H, int KV, int S) {
            const int h = blockIdx.x, b = blockIdx.y, d = threadIdx.x;
            if (d >= HD) return;
            const float* p = part + ((long long)b * H + h) * S * (HD + 2);
            float M = NEG_INF;
            for (int s = 0; s < S; s++) M = fmaxf(M, p[s * (HD + 2) + HD]);
            float num = 0.f, den = 0.f;
            for (int s = 0; s < S; s++) {
                float ms = p[s * (HD + 2) + HD];
                if (ms != NEG_INF) { float f = __expf(ms - M); num += f * p[s * (HD + 2) + d]; den += f * p[s * (HD + 2) + HD + 1]; }
            }

            int kv = h / G, g = h - kv * G;
            out[(long long)b * H * HD + (g * KV + kv) * HD + d] = st(num / den);
        }
        """;

    private static readonly Dictionary<(ScalarType, int, int), (DecodeAttention?, string?)> Compiled = [];

    private readonly CudaRuntimeCompiler _compiler;
    private readonly IntPtr _chunk;
    private readonly IntPtr _merge;

    private DecodeAttention(CudaRuntimeCompiler compiler, IReadOnlyDictionary<string, IntPtr> functions, int headDim, int groups)
    {
        _compiler = compiler;
        _chunk = functions["decode_attention"];
        _merge = functions["decode_attention_merge"];
        HeadDim = headDim;
        Groups = groups;
    }

    /// <summary>Values per head.</summary>
    public int HeadDim { get; }

    /// <summary>Query heads per KV head.</summary>
    public int Groups { get; }

    /// <summary>Why the kernel does not serve heads of <paramref name="headDim"/> values in groups of <paramref name="groups"/>, or null when it does.</summary>
    public static string? UnsupportedReason(int headDim, int groups) =>
        headDim % 32 != 0 || headDim > 256
            ? $"the decode attention kernel takes head sizes that are multiples of 32 up to 256, not {headDim}."
            : groups * (headDim / 32) > 32
                ? $"the decode attention kernel keeps at most 32 values per lane; {groups} query heads per KV head of {headDim} values need {groups * headDim / 32}."
                : null;

    /// <summary>The kernel for <paramref name="dtype"/>, head size and group size on the current CUDA device (compiled once per process), or null with the reason.</summary>
    public static (DecodeAttention? Kernel, string? Reason) For(ScalarType dtype, int headDim, int groups)
    {
        if (UnsupportedReason(headDim, groups) is { } unsupported)
        {
            return (null, unsupported);
        }

        var defines = string.Create(CultureInfo.InvariantCulture, $"#define HD {headDim}\n#define G {groups}\n#define WARPS {Warps}\n");
        return RuntimeKernels.Compile(Compiled, (dtype, headDim, groups), dtype, "decode attention kernels", defines, Source, ["decode_attention", "decode_attention_merge"], (c, f) => new DecodeAttention(c, f, headDim, groups));
    }

    /// <summary>
    /// How many chunks to cut a context of up to <paramref name="windowTokens"/> positions into, for a batch of
    /// <paramref name="batch"/> queries with <paramref name="keyValueHeads"/> KV heads: enough blocks to fill the GPU,
    /// chunks of at least <see cref="MinChunkTokens"/> positions.
    /// </summary>
    public static int Chunks(int batch, int keyValueHeads, int windowTokens)
    {
        var wanted = (TargetBlocks + (batch * keyValueHeads) - 1) / (batch * keyValueHeads);
        return Math.Max(1, Math.Min(wanted, windowTokens / MinChunkTokens));
    }

    /// <summary>Floats of the chunk workspace for <paramref name="chunks"/> chunks.</summary>
    public static long WorkspaceFloats(int batch, int heads, int headDim, int chunks) => chunks <= 1 ? 0 : (long)batch * heads * chunks * (headDim + 2);

    /// <summary>
    /// <paramref name="output"/> <c>[b, H·HD]</c> = softmax(q·Kᵀ/√HD)·V over positions 0..<paramref name="position"/> of
    /// each query's cache, for <paramref name="queries"/> <c>[b, H, HD]</c> and caches <c>[T, H + 2KV, HD]</c>
    /// consecutive in <paramref name="cacheLayer"/>; heads in (group, KV head) order, as the output projection takes them.
    /// </summary>
    public void Run(Tensor queries, Tensor cacheLayer, Tensor position, Tensor output, Tensor? workspace, int heads, int keyValueHeads, int chunks, int windowTokens, IntPtr stream)
    {
        var batch = (int)queries.shape[0];
        if (chunks > 1 && (workspace is null || workspace.numel() < WorkspaceFloats(batch, heads, HeadDim, chunks)))
        {
            throw new ArgumentException($"{chunks} chunks need a workspace of {WorkspaceFloats(batch, heads, HeadDim, chunks)} floats.", nameof(workspace));
        }

        var cacheStride = cacheLayer.numel() / batch;
        var chunkTokens = (windowTokens + chunks - 1) / chunks;
        var scale = (float)(1.0 / Math.Sqrt(HeadDim));
        IntPtr pq = Ptr(queries), pc = Ptr(cacheLayer), pp = Ptr(position), po = Ptr(output), pw = workspace is null ? 0 : Ptr(workspace);
        int h = heads, kv = keyValueHeads, s = chunks;
        var args = stackalloc void*[] { &pq, &pc, &pp, &po, &pw, &h, &kv, &cacheStride, &chunkTokens, &scale };
        _compiler.Launch(_chunk, (uint)chunks, (uint)keyValueHeads, (uint)batch, Warps * 32, stream, args);
        if (chunks > 1)
        {
            var merge = stackalloc void*[] { &pw, &po, &h, &kv, &s };
            _compiler.Launch(_merge, (uint)heads, (uint)batch, 1, (uint)(((HeadDim + 31) / 32) * 32), stream, merge);
        }
    }

    private static IntPtr Ptr(Tensor t) => NcclTensors.DataPointer(t);
}
