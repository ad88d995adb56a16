using static TorchSharp.torch;

namespace LlmEff.Profiling.Torch;

/// <summary>
/// Fused decode-step kernels, compiled at run time with NVRTC (bf16 and fp32), each replacing several libtorch kernels
/// of a step of one token per query: <c>fused_norm</c> adds a pending row-parallel bias to the residual and normalises
/// it (LayerNorm or RMSNorm, fp32 statistics) in one launch; <c>rotary_cache</c> rotates the tokens' queries and keys
/// (rotate-half, sign-folded sine table) and writes their keys and values into the cache row at the device-held
/// position; <c>silu_mul</c> is a gated FFN's activation. Each takes a batch of rows (one per query: one block row
/// each) so the single-query step and the static batch share them. The arithmetic and roundings follow the libtorch
/// ops they replace, so tokens match the eager decoder.
/// </summary>
internal sealed unsafe class DecodeKernels
{
    /// <summary>Largest row a norm launch handles: 1024 threads × 24 values held per thread.</summary>
    public const int MaxNormWidth = 1024 * 24;

    private const string Source = RuntimeKernels.Prefetch + """
        __device__ float block_sum(float v, float* sh) {
            for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
            int w = threadIdx.x >> 5, l = threadIdx.x & 31, nw = (blockDim.x + 31) >> 5;
            if (l == 0) sh[w] = v;
            __syncthreads();
            if (w == 0) {
                v = l < nw ? sh[l] : 0.f;
                for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
                if (l == 0) sh[32] = v;
            }
            __syncthreads();
            float r = sh[32];
            __syncthreads();
            return r;
        }

        // Row r = blockIdx.x of x [rows, h]: x[r, :] += add (one row for all, or row r of add [rows, h] where add_rows; rounded,
        // as x.add_ would), then y[r, :] = norm(x[r, :]) * w (+ b);
        // one block per row, each thread holding up to NV values in registers (fixed trip counts, so the arrays are not
        // spilled to local memory). With few values a thread (NV <= 8) the weight and bias are read up front too, so their
        // loads overlap the row's and the reductions instead of following them (a step's norms are latency, not bytes).
        template <int NV>
        __device__ __forceinline__ void norm_row(T* x, const T* add, const T* w, const T* b, T* y, int h, float eps, int layer_norm, int add_rows, float* sh) {
            x += (long long)blockIdx.x * h;
            y += (long long)blockIdx.x * h;
            if (add && add_rows) add += (long long)blockIdx.x * h;
            constexpr bool early = NV <= 8;
            float wv[early ? NV : 1], bv[early ? NV : 1];
            if (early) {
                #pragma unroll
                for (int k = 0; k < NV; k++) {
                    int i = threadIdx.x + k * blockDim.x;
                    wv[early ? k : 0] = i < h ? ld(w[i]) : 0.f;
                    bv[early ? k : 0] = i < h && b ? ld(b[i]) : 0.f;
                }
            }
            float v[NV];
            float s = 0.f;
            #pragma unroll
            for (int k = 0; k < NV; k++) {
                int i = threadIdx.x + k * blockDim.x;
                float a = 0.f;
                if (i < h) {
                    a = ld(x[i]);
                    if (add) { T r = st(a + ld(add[i])); x[i] = r; a = ld(r); }
                }
                v[k] = a;
                s += a;
            }
            float mean = layer_norm ? block_sum(s, sh) / h : 0.f;
            float q = 0.f;
            #pragma unroll
            for (int k = 0; k < NV; k++) {
                int i = threadIdx.x + k * blockDim.x;
                float d = i < h ? v[k] - mean : 0.f;
                q += d * d;
            }
            float r = rsqrtf(block_sum(q, sh) / h + eps);
            // As libtorch's one-group GroupNorm applies it: y = a·x + (b − a·mean) with a = rstd·w; RMSNorm: x·rstd·w.
            #pragma unroll
            for (int k = 0; k < NV; k++) {
                int i = threadIdx.x + k * blockDim.x;
                if (i < h) {
                    float wk = early ? wv[early ? k : 0] : ld(w[i]), o;
                    if (layer_norm) {
                        float bk = early ? bv[early ? k : 0] : b ? ld(b[i]) : 0.f;
                        float a = r * wk;
                        o = a * v[k] + (bk - a * mean);
                    }
                    else o = v[k] * r * wk;
                    y[i] = st(o);
                }
            }
        }

        // Up to 24 values a thread at 1,024 threads (rows up to 24,576); launch bounds cap the registers so they fit. The
        // narrower instances serve rows up to 4 and 8 values a thread (hidden sizes up to 4,096 and 8,192).
        extern "C" __global__ void __launch_bounds__(1024) fused_norm(T* x, const T* add, const T* w, const T* b, T* y, int h, float eps, int layer_norm, int add_rows) {
            __shared__ float sh[33];
            GRID_DEPENDENCY();
            norm_row<24>(x, add, w, b, y, h, eps, layer_norm, add_rows, sh);
        }

        extern "C" __global__ void __launch_bounds__(1024) fused_norm4(T* x, const T* add, const T* w, const T* b, T* y, int h, float eps, int layer_norm, int add_rows) {
            __shared__ float sh[33];
            GRID_DEPENDENCY();
            norm_row<4>(x, add, w, b, y, h, eps, layer_norm, add_rows, sh);
        }

        extern "C" __global__ void __launch_bounds__(1024) fused_norm8(T* x, const T* add, const T* w, const T* b, T* y, int h, float eps, int layer_norm, int add_rows) {
            __shared__ float sh[33];
            GRID_DEPENDENCY();
            norm_row<8>(x, add, w, b, y, h, eps, layer_norm, add_rows, sh);
        }

        // One block per row of qkv [B, H + 2KV, HD] (query blockIdx.y); q rows go to q_out [B, H, HD], k and v rows to
        // query b's cache [T, H + 2KV, HD] at pos (caches cache_stride values apart). Rotary (cs != 0) on q, k:
        // out = round(round(x·c) + roll(x, HD/2)·s), as qk.mul_(c).addcmul_(roll, s). With pf, first asks the L2 for
        // pf_bytes from pf (the layer's output projection, read after attention; see l2_prefetch).
        extern "C" __global__ void rotary_cache(const T* qkv, T* q_out, T* cache, const long long* pos, const T* cs, const T* sn, int H, int KV, int HD, long long cache_stride, const char* pf, long long pf_bytes) {
            int r = blockIdx.x, d = threadIdx.x;
            if (pf) l2_prefetch(pf, pf_bytes); // weights: nothing before this kernel writes them
            GRID_DEPENDENCY();
            if (d >= HD) return;
            qkv += (long long)blockIdx.y * (H + 2 * KV) * HD;
            q_out += (long long)blockIdx.y * H * HD;
            cache += blockIdx.y * cache_stride;
            long long p = *pos;
            int QKV = H + 2 * KV, half = HD / 2;
            float v = ld(qkv[r * HD + d]);
            if (cs && r < H + KV) {
                int pd = d < half ? d + half : d - half;
                float t = ld(st(v * ld(cs[p * HD + d])));
                v = t + ld(qkv[r * HD + pd]) * ld(sn[p * HD + d]);
            }
            T o = st(v);
            if (r < H) q_out[r * HD + d] = o;
            else cache[(p * QKV + r) * HD + d] = o;
        }

        // Gated FFN activation of gu [rows, stride] (gate in columns 0..n-1, up from column up): out [rows, n] =
        // round(round(silu(gate)) · up), as torch.silu(gate) * up rounds.
        extern "C" __global__ void silu_mul(const T* gu, T* out, int n, int stride, int up) {
            GRID_DEPENDENCY();
            int i = blockIdx.x * blockDim.x + threadIdx.x;
            if (i >= n) return;
            const T* row = gu + (long long)blockIdx.y * stride;
            float a = ld(row[i]);
            out[(long long)blockIdx.y * n + i] = st(ld(st(a / (1.0f + expf(-a)))) * ld(row[up + i]));
        }
        """;

    // By element type, device and prefetch mode: an NVRTC module is loaded into one device's context.
    private static readonly Dictionary<(ScalarType, int, WeightPrefetch), (DecodeKernels?, string?)> Compiled = [];

    private readonly CudaRuntimeCompiler _compiler;
    private readonly IntPtr _norm;
    private readonly IntPtr _norm4;
    private readonly IntPtr _norm8;
    private readonly IntPtr _rotary;
    private readonly IntPtr _siluMul;

    private DecodeKernels(CudaRuntimeCompiler compiler, IReadOnlyDictionary<string, IntPtr> functions, WeightPrefetch prefetch)
    {
        _compiler = compiler;
        Prefetch = prefetch;
        _norm = functions["fused_norm"];
        _norm4 = functions["fused_norm4"];
        _norm8 = functions["fused_norm8"];
        _rotary = functions["rotary_cache"];
        _siluMul = functions["silu_mul"];
    }

    /// <summary>The weight prefetch <see cref="For(ScalarType, int)"/> compiles: off unless an experiment (the GPU harness) sets it; set it before building a decoder.</summary>
    internal static WeightPrefetch WeightPrefetchInUse { get; set; }

    /// <summary>How much of a dense FFN's first weight <see cref="WeightPrefetch.AttentionAndFfn"/> asks for: 8 MiB, which with a 4,096-wide model's 32 MiB output projection stays under an H100's 50 MB L2.</summary>
    internal static long FfnPrefetchBytes { get; set; } = 8L << 20;

    /// <summary>The weight prefetch these kernels were compiled with.</summary>
    public WeightPrefetch Prefetch { get; }

    /// <summary>The kernels for <paramref name="dtype"/> on CUDA device 0 (compiled once per process), or null with the reason.</summary>
    public static (DecodeKernels? Kernels, string? Reason) For(ScalarType dtype) => For(dtype, 0);

    /// <summary>
    /// The kernels for <paramref name="dtype"/> on CUDA device <paramref name="device"/> (compiled there once per process,
    /// the device made current meanwhile), or null with the reason. Launch them only on that device's streams.
    /// </summary>
    public static (DecodeKernels? Kernels, string? Reason) For(ScalarType dtype, int device)
    {
        var prefetch = WeightPrefetchInUse;
        return CudaGraph.OnDevice(device, () => RuntimeKernels.Compile(Compiled, (dtype, device, prefetch), dtype, SourceFor(prefetch), (c, f) => new DecodeKernels(c, f, prefetch)));
    }

    /// <summary>The source NVRTC compiles for <paramref name="prefetch"/>.</summary>
    internal static KernelSource SourceFor(WeightPrefetch prefetch) =>
        new("fused decode kernels", $"#define PF_MODE {(int)prefetch}\n", Source, ["fused_norm", "fused_norm4", "fused_norm8", "rotary_cache", "silu_mul"]);

    /// <summary>
    /// Per row of <paramref name="x"/> (its last dimension is the norm's width, the weight's length): the row +=
    /// <paramref name="add"/> (when given: one row for every row, or a row per row), then that row of <paramref name="y"/> = norm(row)·w (+ b).
    /// </summary>
    public void Norm(Tensor x, Tensor? add, Tensor weight, Tensor? bias, Tensor y, double eps, bool layerNorm, IntPtr stream)
    {
        var h = (int)weight.numel();
        var threads = (int)NormThreads(h);
        var perThread = (h + threads - 1) / threads;
        LaunchNorm(perThread <= 4 ? _norm4 : perThread <= 8 ? _norm8 : _norm, x, add, weight, bias, y, eps, layerNorm, stream);
    }

    /// <summary>
    /// <see cref="Norm"/> through the 24-values-a-thread instance whatever the width (weights read after the reductions):
    /// the kernel every width used before the narrow instances, kept for timing them against it in one process.
    /// </summary>
    internal void NormWide(Tensor x, Tensor? add, Tensor weight, Tensor? bias, Tensor y, double eps, bool layerNorm, IntPtr stream) =>
        LaunchNorm(_norm, x, add, weight, bias, y, eps, layerNorm, stream);

    private static uint NormThreads(int h) => (uint)Math.Min(1024, ((h + 31) / 32) * 32);

    private void LaunchNorm(IntPtr kernel, Tensor x, Tensor? add, Tensor weight, Tensor? bias, Tensor y, double eps, bool layerNorm, IntPtr stream)
    {
        var h = (int)weight.numel();
        if (h > MaxNormWidth)
        {
            throw new ArgumentOutOfRangeException(nameof(x), h, $"fused_norm handles rows of at most {MaxNormWidth} values.");
        }

        var rows = (uint)(x.numel() / h);
        IntPtr px = Ptr(x), pa = add is null ? 0 : Ptr(add), pw = Ptr(weight), pb = bias is null ? 0 : Ptr(bias), py = Ptr(y);
        var e = (float)eps;
        var ln = layerNorm ? 1 : 0;
        // A bias (one row) is added to every row; a [rows, h] tensor (deferred projection outputs) row by row.
        var addRows = add is not null && rows > 1 && add.numel() == x.numel() ? 1 : 0;
        var args = stackalloc void*[] { &px, &pa, &pw, &pb, &py, &h, &e, &ln, &addRows };
        _compiler.Launch(kernel, rows, NormThreads(h), stream, args);
    }

    /// <summary>
    /// Rotates the queries and keys of each query's <paramref name="qkv"/> row <c>[b, H + 2KV, HD]</c> (when tables are
    /// given) into <paramref name="queries"/> <c>[b, H, HD]</c> and, with the values, into that query's cache
    /// <c>[T, H + 2KV, HD]</c> (consecutive in <paramref name="cacheLayer"/>) at <paramref name="position"/>. Where these
    /// kernels prefetch (<see cref="Prefetch"/>), first asks the L2 for the contiguous <paramref name="prefetch"/>.
    /// </summary>
    public void RotaryCache(Tensor qkv, Tensor queries, Tensor cacheLayer, Tensor position, Tensor? cos, Tensor? signedSin, int heads, int keyValueHeads, int headDim, IntPtr stream, Tensor? prefetch = null)
    {
        var (pf, pfBytes) = PrefetchArguments(Prefetch == WeightPrefetch.Off ? null : prefetch);
        var rowValues = (long)(heads + (2 * keyValueHeads)) * headDim;
        var batch = (uint)(qkv.numel() / rowValues);
        var cacheStride = cacheLayer.numel() / batch;
        IntPtr pq = Ptr(qkv), po = Ptr(queries), pc = Ptr(cacheLayer), pp = Ptr(position), pcs = cos is null ? 0 : Ptr(cos), psn = signedSin is null ? 0 : Ptr(signedSin);
        int hh = heads, kv = keyValueHeads, hd = headDim;
        var args = stackalloc void*[] { &pq, &po, &pc, &pp, &pcs, &psn, &hh, &kv, &hd, &cacheStride, &pf, &pfBytes };
        _compiler.Launch(_rotary, (uint)(heads + (2 * keyValueHeads)), batch, 1, (uint)(((headDim + 31) / 32) * 32), stream, args);
    }

    /// <summary>
    /// A gated FFN's activation: <paramref name="output"/> <c>[rows, n]</c> = silu(gate)·up, the gate in columns
    /// <c>0..n−1</c> of each row of <paramref name="gateUp"/> and up from column <paramref name="upColumn"/>.
    /// </summary>
    public void SiluMul(Tensor gateUp, Tensor output, int upColumn, IntPtr stream)
    {
        var rows = (uint)output.shape[0];
        int n = (int)output.shape[1], stride = (int)gateUp.shape[1], up = upColumn;
        IntPtr pg = Ptr(gateUp), po = Ptr(output);
        var args = stackalloc void*[] { &pg, &po, &n, &stride, &up };
        _compiler.Launch(_siluMul, (uint)((n + 255) / 256), rows, 1, 256, stream, args);
    }

    /// <summary>A kernel's prefetch arguments for <paramref name="weights"/> (null: none): its data pointer and its bytes up to <paramref name="maxBytes"/>, which must be contiguous.</summary>
    internal static (IntPtr Pointer, long Bytes) PrefetchArguments(Tensor? weights, long maxBytes = long.MaxValue)
    {
        if (weights is null)
        {
            return (IntPtr.Zero, 0);
        }

        if (!weights.is_contiguous())
        {
            throw new ArgumentException("Weights to prefetch must be contiguous.", nameof(weights));
        }

        return (Ptr(weights), Math.Min(maxBytes, weights.numel() * weights.ElementSize));
    }

    private static IntPtr Ptr(Tensor t) => NcclTensors.DataPointer(t);
}
