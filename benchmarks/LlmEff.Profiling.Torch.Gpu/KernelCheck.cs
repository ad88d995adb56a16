using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace LlmEff.Profiling.Torch.Gpu;

/// <summary>
/// On the GPU: the NVRTC-compiled decode kernels against the libtorch ops they replace, on random data, in bf16 and fp32
/// (fraction of bit-identical outputs and the largest difference).
/// </summary>
internal static partial class KernelCheck
{
    public static List<Dictionary<string, object?>> Run(Device device)
    {
        var results = new List<Dictionary<string, object?>>();
        foreach (var dtype in new[] { ScalarType.BFloat16, ScalarType.Float32 })
        {
            var r = new Dictionary<string, object?> { ["dtype"] = dtype.ToString() };
            try
            {
                using var scope = NewDisposeScope();
                using var inference = inference_mode();
                var (kernels, reason) = DecodeKernels.For(dtype);
                if (kernels is null)
                {
                    r["error"] = reason;
                    results.Add(r);
                    continue;
                }

                // The decoder's one-row norms as the eager script writes them.
                using var refs = jit.compile("""
                    def ln_ref(x: Tensor, w: Tensor, b: Tensor) -> Tensor:
                        return torch.group_norm(x.view(1, x.size(1), 1), 1, w, b, 1e-05).view(1, x.size(1))
                    def rms_ref(x: Tensor, w: Tensor) -> Tensor:
                        return torch.rms_norm(x, [x.size(1)], w, 1e-05)
                    """ + "\n");
                var g = new Generator(1);
                foreach (var (h, ln) in new[] { (2048, false), (4096, true), (4096, false), (6144, true), (8192, false), (12288, true), (20480, true) })
                {
                    var x = randn([1, h], dtype, generator: g).to(device);
                    var add = randn([h], dtype, generator: g).to(device);
                    var w = (randn([h], dtype, generator: g).to(device) * 0.1) + 1;
                    var b = randn([h], dtype, generator: g).to(device) * 0.1;
                    var want = x.clone();
                    want.add_(add);
                    var wantY = ln ? (Tensor)refs.invoke("ln_ref", want, w, b) : (Tensor)refs.invoke("rms_ref", want, w);
                    var got = x.clone();
                    var y = empty_like(got);
                    kernels.Norm(got, add, w, ln ? b : null, y, 1e-5, ln, IntPtr.Zero);
                    cuda.synchronize();
                    var key = $"norm_{(ln ? "ln" : "rms")}_{h}";
                    r[$"{key}_x_identical"] = (want == got).to(ScalarType.Float32).mean().item<float>();
                    r[$"{key}_y_identical"] = (wantY == y).to(ScalarType.Float32).mean().item<float>();
                    r[$"{key}_y_max_abs_diff"] = (wantY.to(ScalarType.Float32) - y.to(ScalarType.Float32)).abs().max().item<float>();
                }

                NormTimes(kernels, dtype, device, g, r);
                Rotary(kernels, dtype, device, g, r, batch: null, position: 37, prefix: string.Empty);
                Batched(kernels, dtype, device, g, r);
                Experts(dtype, device, g, r);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                r["error"] = ex.ToString();
            }

            results.Add(r);
        }

        return results;
    }

    /// <summary>The routed-expert kernels against the TorchScript mixture's arithmetic (per-expert GEMMs, then the gated sum), with and without a shared output.</summary>
    private static void Experts(ScalarType dtype, Device device, Generator g, Dictionary<string, object?> r)
    {
        var (kernels, reason) = MixtureOfExpertsKernels.For(dtype);
        if (kernels is null)
        {
            r["experts"] = reason;
            return;
        }

        using var refs = jit.compile("""
            def moe_ref(y: Tensor, rt: Tensor, idx: Tensor, egu: Tensor, ed: Tensor, F: int) -> Tensor:
                gates = torch.softmax(torch.mm(y, rt).gather(1, idx).float(), -1).to(y.dtype)
                zs: List[Tensor] = []
                for k in range(idx.size(1)):
                    e = int(idx[0, k])
                    u = torch.mm(y, egu[e].t())
                    zs.append(torch.mm(torch.silu(u.narrow(1, 0, F)) * u.narrow(1, F, F), ed[e].t()))
                return torch.mm(gates, torch.cat(zs, 0))
            """ + "\n");
        foreach (var (experts, k, h, f) in new[] { (16, 4, 256, 96), (128, 8, 2048, 768), (8, 2, 4096, 1792) })
        {
            var y = randn([1, h], dtype, generator: g).to(device);
            var router = randn([h, experts], dtype, generator: g).to(device) * 0.1;
            var gateUp = randn([experts, 2 * f, h], dtype, generator: g).to(device) * 0.05;
            var down = randn([experts, h, f], dtype, generator: g).to(device) * 0.05;
            var routes = stack([.. Enumerable.Range(0, 5).Select(i => randperm(experts, generator: g).narrow(0, 0, k).sort().Values)]).to(device);
            var position = tensor(new long[] { 3 }, ScalarType.Int64, device);
            var routerRows = router.t().contiguous();
            // What the expert kernels now do inside moe_gate_up: the router GEMM the step used to launch (µs per call).
            r[$"router_gemm_e{experts}_h{h}_us"] = Math.Round(GraphSecondsPerCall(() => mm(y, router).Dispose(), 48) * 1e6, 2);
            foreach (var withShared in new[] { false, true })
            {
                var shared = withShared ? randn([1, h], dtype, generator: g).to(device) : null;
                var x = randn([1, h], dtype, generator: g).to(device);
                var moe = (Tensor)refs.invoke("moe_ref", y, router, routes.narrow(0, 3, 1), gateUp, down, f);
                var want = x.clone();
                want.add_(shared is null ? moe : moe + shared);
                var got = x.clone();
                var logits = empty([experts], dtype, device);
                var activation = empty([k, f], dtype, device);
                kernels.Run(y, routerRows, routes, position, gateUp, down, shared, got, logits, activation, IntPtr.Zero);
                cuda.synchronize();
                var key = $"experts_e{experts}_k{k}_h{h}_f{f}{(withShared ? "_shared" : string.Empty)}";
                if (!withShared)
                {
                    var scratch = x.clone();
                    r[key + "_us"] = Math.Round(GraphSecondsPerCall(() => kernels.Run(y, routerRows, routes, position, gateUp, down, null, scratch, logits, activation, CudaGraph.CurrentRawStream()), 48) * 1e6, 2);
                }

                r[key + "_identical"] = (want == got).to(ScalarType.Float32).mean().item<float>();
                r[key + "_max_abs_diff"] = (want.to(ScalarType.Float32) - got.to(ScalarType.Float32)).abs().max().item<float>();
                r[key + "_max_abs_ref"] = want.to(ScalarType.Float32).abs().max().item<float>();
            }
        }
    }

    /// <summary>
    /// The one-row norm's time per call, the narrow instance the decoders launch against the 24-values-a-thread kernel
    /// used for every width before (weights read after the reductions), 64 calls back to back in a CUDA graph.
    /// </summary>
    private static void NormTimes(DecodeKernels kernels, ScalarType dtype, Device device, Generator g, Dictionary<string, object?> r)
    {
        foreach (var (h, ln) in new[] { (4096, false), (4096, true) })
        {
            var x = randn([1, h], dtype, generator: g).to(device);
            var add = randn([h], dtype, generator: g).to(device) * 1e-3;
            var w = (randn([h], dtype, generator: g).to(device) * 0.1) + 1;
            var b = randn([h], dtype, generator: g).to(device) * 0.1;
            var y = empty_like(x);
            var key = $"norm_{(ln ? "ln" : "rms")}_{h}";
            r[key + "_us"] = Math.Round(GraphSecondsPerCall(() => kernels.Norm(x, add, w, ln ? b : null, y, 1e-5, ln, CudaGraph.CurrentRawStream()), 64) * 1e6, 2);
            r[key + "_wide_kernel_us"] = Math.Round(GraphSecondsPerCall(() => kernels.NormWide(x, add, w, ln ? b : null, y, 1e-5, ln, CudaGraph.CurrentRawStream()), 64) * 1e6, 2);
        }
    }

    /// <summary>Seconds per call of <paramref name="body"/>, issued <paramref name="calls"/> times in one CUDA graph (best of 3 series of 20 replays).</summary>
    private static double GraphSecondsPerCall(Action body, int calls)
    {
        var stream = CudaGraph.SideStream();
        CudaGraph.RunOnSideStream(body, stream);
        using var graph = CudaGraph.Capture(
            () =>
            {
                for (var i = 0; i < calls; i++)
                {
                    body();
                }
            },
            stream);
        return graph.BestSecondsPerReplay(20) / calls;
    }

    /// <summary>
    /// Rotary + cache write against qk.mul_(cos).addcmul_(roll, sin): one query's rows <c>[QKV, HD]</c> into a cache
    /// <c>[T, QKV, HD]</c> (<paramref name="batch"/> null), or a batch's <c>[b, QKV, HD]</c> into caches <c>[b, T, QKV, HD]</c>.
    /// </summary>
    private static void Rotary(DecodeKernels kernels, ScalarType dtype, Device device, Generator g, Dictionary<string, object?> r, int? batch, int position, string prefix)
    {
        const int H = 32, KV = 8, HD = 128, C = 64;
        long[] lead = batch is { } b ? [b] : [];
        var d = lead.Length; // the row dimension of qkv, and the position dimension of the cache
        var qkv = randn([.. lead, H + (2 * KV), HD], dtype, generator: g).to(device);
        var cos = randn([C, HD], dtype, generator: g).to(device);
        var sin = randn([C, HD], dtype, generator: g).to(device);
        var cache = zeros([.. lead, C, H + (2 * KV), HD], dtype, device);
        var q = empty([.. lead, H, HD], dtype, device);
        var pos = tensor(new long[] { position }, ScalarType.Int64, device);
        kernels.RotaryCache(qkv, q, cache, pos, cos, sin, H, KV, HD, IntPtr.Zero);
        cuda.synchronize();
        var refRow = qkv.clone();
        var qk = refRow.narrow(d, 0, H + KV);
        var rolled = qk.roll(HD / 2, -1);
        qk.mul_(cos[position]).addcmul_(rolled, sin[position], 1);
        r[$"{prefix}rotary_q_identical"] = (refRow.narrow(d, 0, H) == q).to(ScalarType.Float32).mean().item<float>();
        r[$"{prefix}rotary_kv_identical"] = (refRow.narrow(d, H, 2 * KV) == cache.select(d, position).narrow(d, H, 2 * KV)).to(ScalarType.Float32).mean().item<float>();
        r[$"{prefix}cache_other_rows_untouched"] = cache.narrow(d, 0, position).abs().sum().to(ScalarType.Float32).item<float>() == 0;
    }

    /// <summary>The batched step's uses: norms of several rows, rotary + cache writes of several queries, the gated activation, and decode attention against SDPA.</summary>
    private static void Batched(DecodeKernels kernels, ScalarType dtype, Device device, Generator g, Dictionary<string, object?> r)
    {
        using var refs = jit.compile("""
            def ln_rows(x: Tensor, w: Tensor, b: Tensor) -> Tensor:
                return torch.layer_norm(x, [x.size(1)], w, b, 1e-05)
            def silu_mul(gu: Tensor, n: int, up: int) -> Tensor:
                return torch.silu(gu.narrow(1, 0, n)) * gu.narrow(1, up, n)
            def attn(q: Tensor, k: Tensor, v: Tensor, G: int) -> Tensor:
                B = q.size(0)
                H = q.size(1)
                KV = k.size(1)
                HD = q.size(3)
                a = torch.scaled_dot_product_attention(q, k.repeat_interleave(G, 1), v.repeat_interleave(G, 1), None, 0.0, False)
                return a.view(B, KV, G, HD).transpose(1, 2).reshape(B, H * HD)
            """ + "\n");

        // Norms of 5 rows with a shared pending bias.
        const int Rows = 5, Hid = 4096;
        var x = randn([Rows, Hid], dtype, generator: g).to(device);
        var add = randn([Hid], dtype, generator: g).to(device);
        var w = (randn([Hid], dtype, generator: g).to(device) * 0.1) + 1;
        var bias = randn([Hid], dtype, generator: g).to(device) * 0.1;
        var want = x.clone();
        want.add_(add);
        var wantY = (Tensor)refs.invoke("ln_rows", want, w, bias);
        var got = x.clone();
        var y = empty_like(got);
        kernels.Norm(got, add, w, bias, y, 1e-5, true, IntPtr.Zero);
        cuda.synchronize();
        r["rows_norm_x_identical"] = (want == got).to(ScalarType.Float32).mean().item<float>();
        r["rows_norm_y_max_abs_diff"] = (wantY.to(ScalarType.Float32) - y.to(ScalarType.Float32)).abs().max().item<float>();

        // The same rows with a row of its own each (deferred projection outputs).
        var adds = randn([Rows, Hid], dtype, generator: g).to(device);
        var wantRows = x.clone();
        wantRows.add_(adds);
        var wantRowsY = (Tensor)refs.invoke("ln_rows", wantRows, w, bias);
        var gotRows = x.clone();
        kernels.Norm(gotRows, adds, w, bias, y, 1e-5, true, IntPtr.Zero);
        cuda.synchronize();
        r["rows_norm_row_adds_x_identical"] = (wantRows == gotRows).to(ScalarType.Float32).mean().item<float>();
        r["rows_norm_row_adds_y_max_abs_diff"] = (wantRowsY.to(ScalarType.Float32) - y.to(ScalarType.Float32)).abs().max().item<float>();

        // Rotary + cache write of 3 queries, caches [3, T, QKV, HD].
        Rotary(kernels, dtype, device, g, r, batch: 3, position: 41, prefix: "rows_");

        // Gated activation of 4 rows: gate width 1000, up from column 1024 (an aligned storage width).
        var gu = randn([4, 2048], dtype, generator: g).to(device);
        var act = empty([4, 1000], dtype, device);
        kernels.SiluMul(gu, act, 1024, IntPtr.Zero);
        cuda.synchronize();
        var wantAct = (Tensor)refs.invoke("silu_mul", gu, 1000, 1024);
        r["silu_mul_identical"] = (wantAct == act).to(ScalarType.Float32).mean().item<float>();
        r["silu_mul_max_abs_diff"] = (wantAct.to(ScalarType.Float32) - act.to(ScalarType.Float32)).abs().max().item<float>();

        // Decode attention against SDPA over positions 0..pos: GPT-J-like (MHA, HD 256), Llama-3-like (GQA 4), MQA of HD 64,
        // Qwen3-like (GQA 8); one and several chunks (and the kernel's own split); each form.
        foreach (var form in Enum.GetValues<AttentionKernelForm>())
        {
            foreach (var (heads, kvHeads, headDim) in new[] { (16, 16, 256), (32, 8, 128), (8, 1, 64), (32, 4, 128) })
            {
                var (kernel, reason) = DecodeAttention.For(dtype, headDim, heads / kvHeads, 0, form);
                var key = $"attention_form{(int)form}_h{heads}_kv{kvHeads}_hd{headDim}";
                if (kernel is null)
                {
                    r[key] = reason;
                    continue;
                }

                r[key + "_compiled_form"] = kernel.Form.ToString();
                r[key + "_registers"] = kernel.ChunkKernelRegisters;
                foreach (var (batch, position, window) in new[] { (1, 1500, 1536), (5, 257, 384), (2, 0, 128), (3, 40, 4256) })
                {
                    var qkvw = heads + (2 * kvHeads);
                    var caches = randn([batch, window, qkvw, headDim], dtype, generator: g).to(device);
                    var queries = randn([batch, heads, headDim], dtype, generator: g).to(device);
                    var at = tensor(new long[] { position }, ScalarType.Int64, device);
                    var keys = caches.narrow(1, 0, position + 1).narrow(2, heads, kvHeads).permute(0, 2, 1, 3);
                    var values = caches.narrow(1, 0, position + 1).narrow(2, heads + kvHeads, kvHeads).permute(0, 2, 1, 3);
                    var expected = ((Tensor)refs.invoke("attn", queries.unsqueeze(2), keys, values, heads / kvHeads)).to(ScalarType.Float32);
                    foreach (var chunks in new[] { 1, DecodeAttention.Chunks(batch, kvHeads, window, form: kernel.Form), kernel.Split(batch, kvHeads, window) }.Distinct())
                    {
                        var workspace = chunks > 1 ? zeros([DecodeAttention.WorkspaceFloats(batch, heads, headDim, chunks)], ScalarType.Float32, device) : null;
                        var output = zeros([batch, heads * headDim], dtype, device);
                        kernel.Run(queries, caches, at, output, workspace, heads, kvHeads, chunks, window, IntPtr.Zero);

                        cuda.synchronize();
                        var name = $"{key}_b{batch}_pos{position}_chunks{chunks}";
                        r[name + "_max_abs_diff"] = (expected - output.to(ScalarType.Float32)).abs().max().item<float>();
                        r[name + "_max_abs_ref"] = expected.abs().max().item<float>();
                    }
                }
            }
        }
    }
}
