using static TorchSharp.torch;

namespace LlmEff.Profiling.Torch;

/// <summary>
/// A gated mixture-of-experts FFN for one token, compiled at run time with NVRTC (bf16 and fp32), in two kernels:
/// <c>moe_gate_up</c> (each chosen expert's gate and up rows against the token, one warp per row pair, the activation
/// applied as the product is written; extra warps compute the router's logits, one warp per expert) and <c>moe_down</c>
/// (one warp per output value: the softmax over the chosen experts' logits, then every chosen expert's down row against
/// its activation, weighted by its gate, summed, plus the shared experts' output, added to the residual). The experts
/// are read in place, by the position's row of the routing table, so a step reads the router and the chosen experts'
/// weights once with wide loads and nothing else: the router GEMM, grouped GEMMs, sort and gathers of the TorchScript
/// path are several small kernels each, and at batch 1 a step is set by its launches rather than its bytes. Roundings
/// follow that path (logits and each expert's outputs rounded, the gates' softmax in fp32 then rounded, then the gated
/// sum), so tokens match it.
/// </summary>
internal sealed unsafe class MixtureOfExpertsKernels
{
    /// <summary>Most experts per token the kernels take (one register per expert in <c>moe_down</c>).</summary>
    public const int MaxExpertsPerToken = 16;

    private const int WarpsPerBlock = 8;

    private const string Source = """
        #if LLMEFF_FP32
        typedef float4 V; // 16 bytes: 4 values
        #define VN 4
        __device__ __forceinline__ float dotv(V a, V b) { return a.x * b.x + a.y * b.y + a.z * b.z + a.w * b.w; }
        #else
        typedef uint4 V; // 16 bytes: 8 bf16 values
        #define VN 8
        __device__ __forceinline__ float lo(unsigned int w) { return __uint_as_float(w << 16); }
        __device__ __forceinline__ float hi(unsigned int w) { return __uint_as_float(w & 0xffff0000u); }
        __device__ __forceinline__ float dotv(V a, V b) {
            return lo(a.x) * lo(b.x) + hi(a.x) * hi(b.x) + lo(a.y) * lo(b.y) + hi(a.y) * hi(b.y)
                 + lo(a.z) * lo(b.z) + hi(a.z) * hi(b.z) + lo(a.w) * lo(b.w) + hi(a.w) * hi(b.w);
        }
        #endif
        #define MAXK 16
        #define PRE 4 // 16-byte pieces a lane of moe_gate_up loads of each row before the wait

        __device__ __forceinline__ float warp_sum(float v) {
            #pragma unroll
            for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
            return v;
        }

        // Blocks 0..fblocks-1, warp (row u of expert slot k = blockIdx.y): gate row u and up row F + u of expert routes[pos, k]
        // ([2F, h] each) against y [h]; act[k, u] = round(round(silu(round(gate))) * round(up)). Blocks from fblocks on (slot
        // 0 only), warp (expert e): the router's logit, logits[e] = round(router row e ([E, h]) · y), as the router GEMM rounds.
        extern "C" __global__ void moe_gate_up(const T* y, const T* w, const long long* routes, const long long* pos, T* act, int h, int F, int K, const T* router, T* logits, int E, int fblocks) {
            int warps = blockDim.x >> 5, l = threadIdx.x & 31, k = blockIdx.y;
            const V* yv = (const V*)y;
            if ((int)blockIdx.x >= fblocks) {
                int e = (blockIdx.x - fblocks) * warps + (threadIdx.x >> 5);
                if (k != 0 || e >= E) return;
                const V* rv = (const V*)(router + (long long)e * h);
                GRID_DEPENDENCY();
                float a = 0.f;
                #pragma unroll 4
                for (int i = l; i < h / VN; i += 32) a += dotv(rv[i], yv[i]);
                a = warp_sum(a);
                if (l == 0) logits[e] = st(a);
                return;
            }
            int u = blockIdx.x * warps + (threadIdx.x >> 5);
            if (u >= F) return;
            // Before the wait: the routing table, the position and the expert's weights, none of which the kernel before
            // this one (the norm that writes y) writes, so the first pieces of both rows are on their way while it ends.
            long long e = routes[(*pos) * K + k];
            const V* g = (const V*)(w + (e * 2 * F + u) * (long long)h);
            const V* up = (const V*)(w + (e * 2 * F + F + u) * (long long)h);
            V g0[PRE], u0[PRE];
            #pragma unroll
            for (int t = 0; t < PRE; t++) {
                const int i = l + 32 * t;
                if (i < h / VN) { g0[t] = g[i]; u0[t] = up[i]; }
            }
            GRID_DEPENDENCY();
            float a = 0.f, b = 0.f;
            #pragma unroll
            for (int t = 0; t < PRE; t++) {
                const int i = l + 32 * t;
                if (i < h / VN) {
                    V x = yv[i];
                    a += dotv(g0[t], x);
                    b += dotv(u0[t], x);
                }
            }
            #pragma unroll 4
            for (int i = l + 32 * PRE; i < h / VN; i += 32) {
                V x = yv[i];
                a += dotv(g[i], x);
                b += dotv(up[i], x);
            }
            a = warp_sum(a);
            b = warp_sum(b);
            if (l == 0) {
                float gr = ld(st(a));
                act[k * F + u] = st(ld(st(gr / (1.0f + expf(-gr)))) * ld(st(b)));
            }
        }

        // Warp (output value j): gates = round(softmax over k of logits[routes[pos, k]] in fp32), as
        // softmax(logits.gather(idx).float()).to(T); z_k = round(down row j of expert routes[pos, k] ([h, F]) · act[k]) for
        // each k, then out = round(Σ_k gates[k] · z_k) (+ shared[j], rounded) and x[j] = round(x[j] + out).
        extern "C" __global__ void moe_down(const T* act, const T* w, const long long* routes, const long long* pos, const T* logits, const T* shared, T* x, int h, int F, int K) {
            int j = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5), l = threadIdx.x & 31;
            if (j >= h) return;
            const long long* idx = routes + (*pos) * K;
        #if DEPENDENT_LAUNCH
            // Before the wait: the routing table, the position and each chosen expert's down row, none of which the kernel
            // before this one (moe_gate_up, which writes act and the logits) writes; a lane's first piece of every row is
            // on its way while that kernel's last blocks finish.
            V w0[MAXK];
            #pragma unroll
            for (int k = 0; k < MAXK; k++) {
                if (k < K && l < F / VN) w0[k] = ((const V*)(w + (idx[k] * h + j) * (long long)F))[l];
            }
        #endif
            GRID_DEPENDENCY();
            float z[MAXK];
            #pragma unroll
            for (int k = 0; k < MAXK; k++) {
                z[k] = 0.f;
                if (k < K) {
                    const V* row = (const V*)(w + (idx[k] * h + j) * (long long)F);
                    const V* av = (const V*)(act + (long long)k * F);
                    int i = l;
        #if DEPENDENT_LAUNCH
                    if (i < F / VN) z[k] += dotv(w0[k], av[i]);
                    i += 32;
        #endif
                    for (; i < F / VN; i += 32) z[k] += dotv(row[i], av[i]);
                }
            }
            float m = -__int_as_float(0x7f800000), s = 0.f;
            #pragma unroll
            for (int k = 0; k < MAXK; k++) {
                if (k < K) m = fmaxf(m, ld(logits[idx[k]]));
            }
            #pragma unroll
            for (int k = 0; k < MAXK; k++) {
                if (k < K) s += expf(ld(logits[idx[k]]) - m);
            }
            float acc = 0.f;
            #pragma unroll
            for (int k = 0; k < MAXK; k++) {
                if (k < K) acc += ld(st(expf(ld(logits[idx[k]]) - m) / s)) * ld(st(warp_sum(z[k])));
            }
            if (l == 0) {
                T o = st(acc);
                if (shared) o = st(ld(o) + ld(shared[j]));
                x[j] = st(ld(x[j]) + ld(o));
            }
        }
        """;

    private static readonly Dictionary<ScalarType, (MixtureOfExpertsKernels?, string?)> Compiled = [];

    private readonly CudaRuntimeCompiler _compiler;
    private readonly IntPtr _gateUp;
    private readonly IntPtr _down;

    private MixtureOfExpertsKernels(CudaRuntimeCompiler compiler, IReadOnlyDictionary<string, IntPtr> functions)
    {
        _compiler = compiler;
        _gateUp = functions["moe_gate_up"];
        _down = functions["moe_down"];
    }

    /// <summary>Why the kernels do not serve a mixture with these sizes, or null when they do.</summary>
    public static string? UnsupportedReason(bool gated, int expertsPerToken, int hiddenSize, int expertWidth) =>
        !gated ? "the mixture kernels take gated experts."
        : expertsPerToken > MaxExpertsPerToken ? $"the mixture kernels take at most {MaxExpertsPerToken} experts per token, not {expertsPerToken}."
        : hiddenSize % 8 != 0 || expertWidth % 8 != 0 ? $"the mixture kernels read rows in 16-byte pieces: the hidden size ({hiddenSize}) and expert width ({expertWidth}) must be multiples of 8."
        : null;

    /// <summary>The kernels for <paramref name="dtype"/> on the current CUDA device (compiled once per process), or null with the reason.</summary>
    public static (MixtureOfExpertsKernels? Kernels, string? Reason) For(ScalarType dtype) =>
        RuntimeKernels.Compile(Compiled, dtype, dtype, SourceOf, (c, f) => new MixtureOfExpertsKernels(c, f));

    /// <summary>The source NVRTC compiles.</summary>
    internal static KernelSource SourceOf { get; } = new("the mixture kernels", string.Empty, Source, ["moe_gate_up", "moe_down"]);

    /// <summary>
    /// The routed experts of one token: <paramref name="residual"/> <c>[1, h]</c> += Σ gates·expert(<paramref name="normed"/>)
    /// (+ <paramref name="sharedOutput"/>), the experts those of <paramref name="position"/>'s row of
    /// <paramref name="routes"/>, the gates the softmax of <paramref name="router"/> <c>[E, h]</c>'s logits at them;
    /// <paramref name="logits"/> <c>[E]</c> and <paramref name="activation"/> <c>[k, F]</c> are workspace.
    /// </summary>
    public void Run(Tensor normed, Tensor router, Tensor routes, Tensor position, Tensor gateUp, Tensor down, Tensor? sharedOutput, Tensor residual, Tensor logits, Tensor activation, IntPtr stream)
    {
        int k = (int)routes.shape[1], h = (int)normed.numel(), f = (int)activation.shape[1], e = (int)router.shape[0];
        var fblocks = (f + WarpsPerBlock - 1) / WarpsPerBlock;
        IntPtr py = Ptr(normed), prt = Ptr(router), pl = Ptr(logits), pr = Ptr(routes), pp = Ptr(position), pa = Ptr(activation);
        IntPtr pgu = Ptr(gateUp), pd = Ptr(down), ps = sharedOutput is null ? 0 : Ptr(sharedOutput), px = Ptr(residual);
        var upArgs = stackalloc void*[] { &py, &pgu, &pr, &pp, &pa, &h, &f, &k, &prt, &pl, &e, &fblocks };
        _compiler.Launch(_gateUp, (uint)(fblocks + ((e + WarpsPerBlock - 1) / WarpsPerBlock)), (uint)k, 1, WarpsPerBlock * 32, stream, upArgs);
        var downArgs = stackalloc void*[] { &pa, &pd, &pr, &pp, &pl, &ps, &px, &h, &f, &k };
        _compiler.Launch(_down, (uint)((h + WarpsPerBlock - 1) / WarpsPerBlock), WarpsPerBlock * 32, stream, downArgs);
    }

    private static IntPtr Ptr(Tensor t) => NcclTensors.DataPointer(t);
}
