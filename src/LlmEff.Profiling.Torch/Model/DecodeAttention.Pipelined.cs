namespace LlmEff.Profiling.Torch;

/// <summary>The pipelined form of the decode attention kernel (<see cref="AttentionKernelForm.Pipelined"/>).</summary>
internal sealed partial class DecodeAttention
{
    /// <summary>
    /// Block (s, kv, b) takes positions [s·C, min(L, s·C + C)) of query b's cache for the G query heads of KV head kv, as
    /// the warp-tile kernel does, but streams them through shared memory: stages of TK key and value rows (8 KB) copied
    /// with <c>cp.async</c>, ST stages in flight, so the reads of the next stages overlap the arithmetic of this one and a
    /// block holds no loads in registers (few registers, many resident blocks). A row is read by TPR threads, 16 bytes
    /// each; a thread keeps its slice of the G queries and of the G output rows in registers. Per stage: scores (each
    /// thread's partial dot products summed over the row's lanes), the online softmax (one warp per head), then the
    /// values weighted by the probabilities. Chunks are merged by <c>decode_attention_merge</c>.
    /// </summary>
    private const string PipelinedSource = """
        #if LLMEFF_FP32
        #define ES 4
        #else
        #define ES 2
        #endif
        #define NT (WARPS * 32)
        #define TPR (HD / VE)
        #define RPP (NT / TPR)
        #define TK0 (8192 / (2 * HD * ES))
        #define TK (TK0 > 32 ? 32 : (TK0 < RPP ? RPP : TK0))
        #define PASSES (TK / RPP)
        #define ROWB (HD * ES)
        #define STAGEB (2 * TK * ROWB)
        #define PIECES (2 * TK * TPR)
        #define REDB (RPP * G * HD * 4)
        #define SMEMB (ST * STAGEB > REDB ? ST * STAGEB : REDB)
        #define GW ((G + WARPS - 1) / WARPS)

        // Stage si's key and value rows of this block's chunk into buffer si % ST; rows at or past j1 are zero-filled (no
        // read), so a masked row multiplies zeros, never stale bits.
        __device__ __forceinline__ void issue_stage(unsigned sbase, const T* kb, const T* vb, long long rs, int jst, int j1, int si) {
            #pragma unroll
            for (int k = 0; k < PIECES / NT; k++) {
                const int idx = threadIdx.x + k * NT;
                const int half = idx / (TK * TPR), rem = idx - half * (TK * TPR);
                const int row = rem / TPR, pc = rem - row * TPR;
                const int j = jst + row;
                const bool ok = j < j1;
                const T* src = ok ? (half ? vb : kb) + (long long)j * rs + pc * VE : kb;
                const unsigned dst = sbase + (si % ST) * STAGEB + half * (TK * ROWB) + row * ROWB + pc * 16;
                asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" :: "r"(dst), "l"(src), "r"(ok ? 16 : 0) : "memory");
            }
        }

        extern "C" __global__ void __launch_bounds__(NT) decode_attention_pipe(const T* q, const T* cache, const long long* pos, T* out, float* part, int H, int KV, long long cache_stride, long long rs, long long hs, long long ko, long long vo, int C, float scale) {
            __shared__ __align__(16) unsigned char smem[SMEMB];
            __shared__ float sp[G][TK];
            __shared__ float sc[G], sm[G], ss[G];
            #if DEPENDENT_LAUNCH
            {
                // Before the wait: the position and the cache rows below it, which earlier steps wrote and the kernel before
                // this one (the rotary kernel: the queries and the row at the position) does not write; this chunk's first
                // stages of them are asked of the L2 while that kernel ends.
                const int j0 = blockIdx.x * C, pj1 = min(min((int)(*pos), j0 + C), j0 + ST * TK);
                const T* kb = cache + blockIdx.z * cache_stride + ko + blockIdx.y * hs;
                const int lines = (ROWB + 127) / 128, n = (pj1 - j0) * 2 * lines;
                for (int i = threadIdx.x; i < n; i += NT) {
                    const int row = i / (2 * lines), rem = i - row * 2 * lines, half = rem / lines, line = rem - half * lines;
                    const char* a = (const char*)(kb + (half ? vo : 0) + (long long)(j0 + row) * rs) + line * 128;
                    asm volatile("prefetch.global.L2 [%0];" :: "l"(a));
                }
            }
            #endif
            GRID_DEPENDENCY();
            const int s = blockIdx.x, kv = blockIdx.y, b = blockIdx.z, S = gridDim.x;
            const int tid = threadIdx.x, w = tid >> 5, l = tid & 31;
            const int rg = tid / TPR, sl = tid - rg * TPR;
            const T* kb = cache + b * cache_stride + ko + kv * hs;
            const T* vb = kb + vo;
            // This thread's slice of the G queries, scaled (loaded before the position, which it does not need).
            const T* qb = q + ((long long)b * H + kv * G) * HD;
            float qr[G][VE];
            #pragma unroll
            for (int g = 0; g < G; g++) {
                unpack(((const uint4*)(qb + g * HD))[sl], qr[g]);
                #pragma unroll
                for (int e = 0; e < VE; e++) qr[g][e] *= scale;
            }

            const int L = (int)(*pos) + 1;
            const int j0 = s * C, j1 = min(L, j0 + C);
            const int nst = j1 > j0 ? (j1 - j0 + TK - 1) / TK : 0;
            const unsigned sbase = (unsigned)__cvta_generic_to_shared(smem);
            #pragma unroll
            for (int si = 0; si < ST - 1; si++) {
                if (si < nst) issue_stage(sbase, kb, vb, rs, j0 + si * TK, j1, si);
                asm volatile("cp.async.commit_group;\n" ::: "memory");
            }

            float acc[G][VE], mr[GW], sr[GW];
            #pragma unroll
            for (int g = 0; g < G; g++) {
                #pragma unroll
                for (int e = 0; e < VE; e++) acc[g][e] = 0.f;
            }

            #pragma unroll
            for (int i = 0; i < GW; i++) { mr[i] = NEG_INF; sr[i] = 0.f; }

            for (int si = 0; si < nst; si++) {
                asm volatile("cp.async.wait_group %0;\n" :: "n"(ST - 2) : "memory");
                __syncthreads(); // stage si is in every thread's view, and stage si - 1's buffer is free
                if (si + ST - 1 < nst) issue_stage(sbase, kb, vb, rs, j0 + (si + ST - 1) * TK, j1, si + ST - 1);
                asm volatile("cp.async.commit_group;\n" ::: "memory");
                const unsigned char* kt = smem + (si % ST) * STAGEB;
                const unsigned char* vt = kt + TK * ROWB;
                const int jst = j0 + si * TK;

                #pragma unroll
                for (int p = 0; p < PASSES; p++) {
                    const int row = p * RPP + rg;
                    float k8[VE], d[G];
                    unpack(*(const uint4*)(kt + row * ROWB + sl * 16), k8);
                    #pragma unroll
                    for (int g = 0; g < G; g++) {
                        d[g] = 0.f;
                        #pragma unroll
                        for (int e = 0; e < VE; e++) d[g] += qr[g][e] * k8[e];
                    }

                    #pragma unroll
                    for (int g = 0; g < G; g++) {
                        #pragma unroll
                        for (int o = TPR / 2; o > 0; o >>= 1) d[g] += __shfl_xor_sync(0xffffffffu, d[g], o);
                    }

                    if (sl == 0) {
                        #pragma unroll
                        for (int g = 0; g < G; g++) sp[g][row] = jst + row < j1 ? d[g] : NEG_INF;
                    }
                }

                __syncthreads();
                #pragma unroll
                for (int i = 0; i < GW; i++) {
                    const int g = w + i * WARPS;
                    if (g < G) {
                        const float x = l < TK ? sp[g][l] : NEG_INF;
                        const float mn = fmaxf(mr[i], warp_max(x)); // finite: a stage's first row is inside the chunk
                        const float c = __expf(mr[i] - mn);
                        const float pr = l < TK ? __expf(x - mn) : 0.f;
                        sr[i] = sr[i] * c + warp_sum(pr);
                        mr[i] = mn;
                        if (l < TK) sp[g][l] = pr;
                        if (l == 0) sc[g] = c;
                    }
                }

                __syncthreads();
                #pragma unroll
                for (int g = 0; g < G; g++) {
                    const float c = sc[g];
                    #pragma unroll
                    for (int e = 0; e < VE; e++) acc[g][e] *= c;
                }

                #pragma unroll
                for (int p = 0; p < PASSES; p++) {
                    const int row = p * RPP + rg;
                    float v8[VE];
                    unpack(*(const uint4*)(vt + row * ROWB + sl * 16), v8);
                    #pragma unroll
                    for (int g = 0; g < G; g++) {
                        const float pr = sp[g][row];
                        #pragma unroll
                        for (int e = 0; e < VE; e++) acc[g][e] += pr * v8[e];
                    }
                }
            }

            asm volatile("cp.async.wait_group 0;\n" ::: "memory");
            __syncthreads(); // every stage consumed: the buffers take the row groups' sums
            #pragma unroll
            for (int i = 0; i < GW; i++) {
                const int g = w + i * WARPS;
                if (g < G && l == 0) { sm[g] = mr[i]; ss[g] = sr[i]; }
            }

            float* red = (float*)smem;
            #pragma unroll
            for (int g = 0; g < G; g++) {
                #pragma unroll
                for (int e = 0; e < VE; e++) red[(rg * G + g) * HD + sl * VE + e] = acc[g][e];
            }

            __syncthreads();
            for (int i = tid; i < G * HD; i += NT) {
                const int g = i / HD, d = i - g * HD;
                float num = 0.f;
                #pragma unroll
                for (int r = 0; r < RPP; r++) num += red[(r * G + g) * HD + d];
                if (S == 1) {
                    out[(long long)b * H * HD + (g * KV + kv) * HD + d] = st(num / ss[g]);
                } else {
                    float* pp = part + (((long long)b * H + kv * G + g) * S + s) * (HD + 2);
                    pp[d] = num;
                    if (d == 0) { pp[HD] = sm[g]; pp[HD + 1] = ss[g]; }
                }
            }

        }
        """;
}
