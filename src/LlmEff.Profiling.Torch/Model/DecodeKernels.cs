using static TorchSharp.torch;

namespace LlmEff.Profiling.Torch;

/// <summary>
/// Two fused decode-step kernels, compiled at run time with NVRTC (bf16 and fp32), each replacing several libtorch
/// kernels of one token's step: <c>fused_norm</c> adds a pending row-parallel bias to the residual and normalises it
/// (LayerNorm or RMSNorm, fp32 statistics) in one launch; <c>rotary_cache</c> rotates the token's queries and keys
/// (rotate-half, sign-folded sine table) and writes its keys and values into the cache row at the device-held position.
/// The arithmetic and roundings follow the libtorch ops they replace, so tokens match the eager decoder.
/// </summary>
internal sealed unsafe class DecodeKernels
{
    /// <summary>Largest row a norm launch handles: 1024 threads × 24 values held per thread.</summary>
    public const int MaxNormWidth = 1024 * 24;

    private const string Source = """
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

        // x[h] += add[h] (rounded, as x.add_ would), then y = norm(x) * w (+ b); one block, each thread holding up to 24
        // values in registers (fixed trip counts, so the array is not spilled to local memory).
        extern "C" __global__ void fused_norm(T* x, const T* add, const T* w, const T* b, T* y, int h, float eps, int layer_norm) {
            __shared__ float sh[33];
            float v[24];
            float s = 0.f;
            #pragma unroll
            for (int k = 0; k < 24; k++) {
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
            for (int k = 0; k < 24; k++) {
                int i = threadIdx.x + k * blockDim.x;
                float d = i < h ? v[k] - mean : 0.f;
                q += d * d;
            }
            float r = rsqrtf(block_sum(q, sh) / h + eps);
            // As libtorch's one-group GroupNorm applies it: y = a·x + (b − a·mean) with a = rstd·w; RMSNorm: x·rstd·w.
            #pragma unroll
            for (int k = 0; k < 24; k++) {
                int i = threadIdx.x + k * blockDim.x;
                if (i < h) {
                    float o;
                    if (layer_norm) { float a = r * ld(w[i]); o = a * v[k] + ((b ? ld(b[i]) : 0.f) - a * mean); }
                    else o = v[k] * r * ld(w[i]);
                    y[i] = st(o);
                }
            }
        }

        // One block per row of qkv [H + 2KV, HD]; q rows go to q_out, k and v rows to cache[pos]. Rotary (cs != 0) on q, k:
        // out = round(round(x·c) + roll(x, HD/2)·s), as qk.mul_(c).addcmul_(roll, s).
        extern "C" __global__ void rotary_cache(const T* qkv, T* q_out, T* cache, const long long* pos, const T* cs, const T* sn, int H, int KV, int HD) {
            int r = blockIdx.x, d = threadIdx.x;
            if (d >= HD) return;
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
        """;

    private static readonly Dictionary<ScalarType, (DecodeKernels? Kernels, string? Reason)> Compiled = [];
    private static readonly object Gate = new();

    private readonly CudaRuntimeCompiler _compiler;
    private readonly IntPtr _norm;
    private readonly IntPtr _rotary;

    private DecodeKernels(CudaRuntimeCompiler compiler, IReadOnlyDictionary<string, IntPtr> functions)
    {
        _compiler = compiler;
        _norm = functions["fused_norm"];
        _rotary = functions["rotary_cache"];
    }

    /// <summary>The kernels for <paramref name="dtype"/> on the current CUDA device (compiled once per process), or null with the reason.</summary>
    public static (DecodeKernels? Kernels, string? Reason) For(ScalarType dtype)
    {
        lock (Gate)
        {
            if (Compiled.TryGetValue(dtype, out var done))
            {
                return done;
            }

            (DecodeKernels?, string?) result;
            if (dtype is not (ScalarType.BFloat16 or ScalarType.Float32))
            {
                result = (null, $"fused decode kernels are built for bf16 and fp32, not {dtype}.");
            }
            else
            {
                // A runtime call makes libtorch's (primary) context current on this thread, which the driver API needs.
                TorchSharp.torch.cuda.synchronize();
                var (compiler, reason) = CudaRuntimeCompiler.Load();
                try
                {
                    result = compiler is null
                        ? (null, reason)
                        : (new DecodeKernels(compiler, compiler.Compile((dtype == ScalarType.Float32 ? "#define LLMEFF_FP32 1\n" : string.Empty) + Source, "llmeff_decode.cu", ["fused_norm", "rotary_cache"])), null);
                }
                catch (InvalidOperationException e)
                {
                    // A compiler or driver that fails here leaves the plain captured step, which needs neither.
                    result = (null, e.Message);
                }
            }

            Compiled[dtype] = result;
            return result;
        }
    }

    /// <summary><paramref name="x"/> += <paramref name="add"/> (when given), then <paramref name="y"/> = norm(x)·w (+ b).</summary>
    public void Norm(Tensor x, Tensor? add, Tensor weight, Tensor? bias, Tensor y, double eps, bool layerNorm, IntPtr stream)
    {
        var h = (int)x.numel();
        if (h > MaxNormWidth)
        {
            throw new ArgumentOutOfRangeException(nameof(x), h, $"fused_norm handles rows of at most {MaxNormWidth} values.");
        }

        IntPtr px = Ptr(x), pa = add is null ? 0 : Ptr(add), pw = Ptr(weight), pb = bias is null ? 0 : Ptr(bias), py = Ptr(y);
        var e = (float)eps;
        var ln = layerNorm ? 1 : 0;
        var args = stackalloc void*[] { &px, &pa, &pw, &pb, &py, &h, &e, &ln };
        var threads = (uint)Math.Min(1024, ((h + 31) / 32) * 32);
        _compiler.Launch(_norm, 1, threads, stream, args);
    }

    /// <summary>Rotates <paramref name="qkv"/>'s queries and keys (when tables are given) into <paramref name="queries"/> and the cache row at <paramref name="position"/>, with the values.</summary>
    public void RotaryCache(Tensor qkv, Tensor queries, Tensor cacheLayer, Tensor position, Tensor? cos, Tensor? signedSin, int heads, int keyValueHeads, int headDim, IntPtr stream)
    {
        IntPtr pq = Ptr(qkv), po = Ptr(queries), pc = Ptr(cacheLayer), pp = Ptr(position), pcs = cos is null ? 0 : Ptr(cos), psn = signedSin is null ? 0 : Ptr(signedSin);
        int hh = heads, kv = keyValueHeads, hd = headDim;
        var args = stackalloc void*[] { &pq, &po, &pc, &pp, &pcs, &psn, &hh, &kv, &hd };
        _compiler.Launch(_rotary, (uint)(heads + (2 * keyValueHeads)), (uint)(((headDim + 31) / 32) * 32), stream, args);
    }

    private static IntPtr Ptr(Tensor t) => NcclTensors.DataPointer(t);
}
