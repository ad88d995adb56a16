namespace LlmEff.Profiling.Torch;

/// <summary>The warp-tile form of the decode attention kernel (<see cref="AttentionKernelForm.WarpTiles"/>).</summary>
internal sealed partial class DecodeAttention
{
    private const string WarpTilesSource = RuntimeKernels.Prefetch + """
        #define E (HD / 32)
        // Lane l's E consecutive values of a row, raw (16- or 8-byte loads where the slice is that wide), so a tile's
        // loads can all be issued before any is used.
        struct vslice {
        #if E % VE == 0
            uint4 u[E / VE];
        #elif E * 16 / VE == 8
            uint2 u;
        #else
            T u[E];
        #endif
        };

        __device__ __forceinline__ vslice ld_vslice(const T* p) {
            vslice s;
        #if E % VE == 0
            #pragma unroll
            for (int i = 0; i < E / VE; i++) s.u[i] = ((const uint4*)p)[i];
        #elif E * 16 / VE == 8
            s.u = *(const uint2*)p;
        #else
            #pragma unroll
            for (int e = 0; e < E; e++) s.u[e] = p[e];
        #endif
            return s;
        }

        __device__ __forceinline__ void unpack_vslice(const vslice& s, float* o) {
        #if E % VE == 0
            #pragma unroll
            for (int i = 0; i < E / VE; i++) unpack(s.u[i], o + i * VE);
        #elif E * 16 / VE == 8
        #if LLMEFF_FP32
            o[0] = __uint_as_float(s.u.x); o[1] = __uint_as_float(s.u.y);
        #else
            o[0] = __uint_as_float(s.u.x << 16); o[1] = __uint_as_float(s.u.x & 0xffff0000u);
            o[2] = __uint_as_float(s.u.y << 16); o[3] = __uint_as_float(s.u.y & 0xffff0000u);
        #endif
        #else
            #pragma unroll
            for (int e = 0; e < E; e++) o[e] = ld(s.u[e]);
        #endif
        }

        // Value rows whose slices a lane holds at once: up to 256 bytes of them, and at most VBMAX rows.
        #define VB0 ((256 / (E * 16 / VE)) < 32 ? (256 / (E * 16 / VE)) : 32)
        #define VB (VB0 < VBMAX ? VB0 : VBMAX)

        // Block (s, kv, b): positions [s·C, min(L, s·C + C)) of query b's cache for the G query heads of KV head kv, with
        // L = *pos + 1 and C a multiple of 32. Each warp takes tiles of 32 positions: lane l scores position t + l against
        // the G queries (its key row staged through shared memory; queries in shared memory), one warp max per head and tile for the
        // online softmax, then the tile's values row by row with lane l holding values l·E .. l·E + E − 1 (coalesced) and
        // each position's probability broadcast by a shuffle. One chunk (gridDim.x == 1): writes the normalised output,
        // heads in the output projection's (group, KV head) order; else the chunk's [HD unnormalised sums, max, sum of
        // exponentials] per head to part [B, H, S, HD + 2]. With pf (PF_MODE 2, 4), asks the L2 for pf_bytes from pf (the
        // output projection's weights), then pf2_bytes from pf2, once its first tile's loads are in flight, so the
        // requests wait behind them.
        extern "C" __global__ void __launch_bounds__(WARPS * 32, MINB) decode_attention(const T* q, const T* cache, const long long* pos, T* out, float* part, int H, int KV, long long cache_stride, long long rs, long long hs, long long ko, long long vo, int C, float scale, const char* pf, long long pf_bytes, const char* pf2, long long pf2_bytes) {
            __shared__ float sq[G][HD];
            __shared__ float sh[WARPS][G][HD + 2];
            __shared__ uint4 sk[WARPS][32][5]; // a fifth column staggers the rows over the banks
            GRID_DEPENDENCY();
            const int s = blockIdx.x, kv = blockIdx.y, b = blockIdx.z, S = gridDim.x;
            const int w = threadIdx.x >> 5, l = threadIdx.x & 31;
            const int L = (int)(*pos) + 1;
            const int j0 = s * C, j1 = min(L, j0 + C);
            const T* qb = q + ((long long)b * H + kv * G) * HD;
            const T* kb = cache + b * cache_stride + ko + kv * hs;
            const T* vb = kb + vo;
            for (int i = threadIdx.x; i < G * HD; i += WARPS * 32) sq[i / HD][i % HD] = ld(qb[i]) * scale;
            __syncthreads();
            float acc[G][E], m[G], sum[G];
            #pragma unroll
            for (int g = 0; g < G; g++) {
                m[g] = NEG_INF; sum[g] = 0.f;
                #pragma unroll
                for (int e = 0; e < E; e++) acc[g][e] = 0.f;
            }

            for (int t = j0 + w * 32; t < j1; t += WARPS * 32) {
                const int j = t + l;
                const bool ok = j < j1;
                const int n = min(32, j1 - t);
                // Every load of the tile first (one memory latency, not one per row): the keys 64 bytes of each row a
                // piece (4 lanes a row, 8 rows an instruction, coalesced) and this lane's slices of the first VB values.
                uint4 kq[HD / (4 * VE)][4];
                #pragma unroll
                for (int i = 0; i < HD / (4 * VE); i++) {
                    #pragma unroll
                    for (int k = 0; k < 4; k++) {
                        const int r = k * 8 + (l >> 2);
                        kq[i][k] = r < n ? ((const uint4*)(kb + (t + r) * rs))[i * 4 + (l & 3)] : make_uint4(0u, 0u, 0u, 0u);
                    }
                }

                vslice vs[VB];
                #pragma unroll
                for (int u = 0; u < VB; u++) if (u < n) vs[u] = ld_vslice(vb + (t + u) * rs + l * E);
        #if PF_MODE == 2 || PF_MODE == 4
                if (pf) { l2_prefetch(pf, pf_bytes); if (pf2) l2_prefetch(pf2, pf2_bytes); pf = nullptr; }
        #endif
                float sc[G];
                #pragma unroll
                for (int g = 0; g < G; g++) sc[g] = 0.f;
                // Each piece through the warp's shared rows, so that each lane reads back its own row.
                #pragma unroll
                for (int i = 0; i < HD / (4 * VE); i++) {
                    #pragma unroll
                    for (int k = 0; k < 4; k++) sk[w][k * 8 + (l >> 2)][l & 3] = kq[i][k];
                    __syncwarp();
                    #pragma unroll
                    for (int c = 0; c < 4; c++) {
                        float k8[VE];
                        unpack(sk[w][l][c], k8);
                        #pragma unroll
                        for (int g = 0; g < G; g++) {
                            #pragma unroll
                            for (int e = 0; e < VE; e++) sc[g] += sq[g][(i * 4 + c) * VE + e] * k8[e];
                        }
                    }

                    __syncwarp();
                }

                #pragma unroll
                for (int g = 0; g < G; g++) {
                    const float x = ok ? sc[g] : NEG_INF;
                    const float mn = fmaxf(m[g], warp_max(x));
                    const float c = __expf(m[g] - mn);
                    sc[g] = ok ? __expf(x - mn) : 0.f;
                    sum[g] = sum[g] * c + sc[g];
                    #pragma unroll
                    for (int e = 0; e < E; e++) acc[g][e] *= c;
                    m[g] = mn;
                }

                #pragma unroll
                for (int u0 = 0; u0 < 32; u0 += VB) {
                    if (u0 > 0) {
                        #pragma unroll
                        for (int u = 0; u < VB; u++) if (u0 + u < n) vs[u] = ld_vslice(vb + (t + u0 + u) * rs + l * E);
                    }

                    #pragma unroll
                    for (int u = 0; u < VB; u++) {
                        if (u0 + u < n) {
                            float v[E];
                            unpack_vslice(vs[u], v);
                            #pragma unroll
                            for (int g = 0; g < G; g++) {
                                const float p = __shfl_sync(0xffffffffu, sc[g], u0 + u);
                                #pragma unroll
                                for (int e = 0; e < E; e++) acc[g][e] += p * v[e];
                            }
                        }
                    }
                }
            }

        #if PF_MODE == 2 || PF_MODE == 4
            if (pf) { l2_prefetch(pf, pf_bytes); if (pf2) l2_prefetch(pf2, pf2_bytes); } // a warp without tiles
        #endif
            #pragma unroll
            for (int g = 0; g < G; g++) {
                const float total = warp_sum(sum[g]);
                #pragma unroll
                for (int e = 0; e < E; e++) sh[w][g][l * E + e] = acc[g][e];
                if (l == 0) { sh[w][g][HD] = m[g]; sh[w][g][HD + 1] = total; }
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
        """;
}
