using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace LlmEff.Profiling.Torch.Gpu;

/// <summary>
/// On the GPU: the NVRTC-compiled decode kernels against the libtorch ops they replace, on random data, in bf16 and fp32
/// (fraction of bit-identical outputs and the largest difference).
/// </summary>
internal static class KernelCheck
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
    /// One layer's decode attention per call (µs) at p = 1,536 in a 1,664-position window, the batching figures' shapes
    /// (GPT-J: 16 heads of 256; Llama-3-8B: 32 heads of 128 in 8 KV groups), for each batch size and each number of busy
    /// warps the chunk split aims for (the engine's is <see cref="DecodeAttention.TargetWarps"/>); 32 calls back to back
    /// in a CUDA graph, rotating over cache copies so that each call reads from memory, and as a share of the copy rate; then
    /// the same reads from caches without the query rows, in two layouts. Caches are drawn on the device (values do not
    /// matter for the time).
    /// </summary>
    public static Dictionary<string, object?> AttentionSweep(Device device)
    {
        const int Window = 1664, Position = 1535;
        var dtype = ScalarType.BFloat16;
        var r = new Dictionary<string, object?>();
        using var inference = inference_mode();
        var bandwidth = DeviceLimits.CopyBandwidthBytesPerSecond(device, 4L << 30, 20);
        r["copy_bytes_per_second"] = bandwidth;
        foreach (var (name, heads, kvHeads, headDim) in new[] { ("gptj", 16, 16, 256), ("llama", 32, 8, 128), ("qwen3moe", 32, 4, 128) })
        {
            // The warp-tile form at the targets and variants below (the engine's for every shape before the pipelined form).
            var (kernel, reason) = DecodeAttention.For(dtype, headDim, heads / kvHeads, 0, AttentionKernelForm.WarpTiles);
            if (kernel is null)
            {
                r[name] = reason;
                continue;
            }

            r[$"{name}_registers"] = kernel.ChunkKernelRegisters;
            // The chunk kernel's compile-time variants (launch bounds, value rows prefetched): registers and spills of each.
            var variants = new DecodeAttention?[DecodeAttention.Variants.Length];
            for (var v = 0; v < variants.Length; v++)
            {
                var (compiled, why) = DecodeAttention.For(dtype, headDim, heads / kvHeads, v);
                variants[v] = compiled;
                r[$"{name}_variant{v}"] = compiled is null ? why : $"min blocks {DecodeAttention.Variants[v].MinBlocks}, value rows {DecodeAttention.Variants[v].ValueRows}: {compiled.ChunkKernelRegisters} registers, {compiled.ChunkKernelLocalBytes} local bytes";
            }

            // The pipelined form where it serves the shape (else For gives the warp-tile form, not timed again).
            var pipelined = DecodeAttention.For(dtype, headDim, heads / kvHeads, 0, AttentionKernelForm.Pipelined).Kernel is { Form: AttentionKernelForm.Pipelined } p1 ? p1 : null;
            r[$"{name}_form1_registers"] = pipelined?.ChunkKernelRegisters;
            r[$"{name}_engine_form"] = DecodeAttention.EngineForm(dtype, headDim, heads / kvHeads).ToString();

            foreach (var batch in new[] { 1, 2, 4, 8, 16, 32 })
            {
                using var scope = NewDisposeScope();
                // Enough cache copies, rotated call by call, that each call reads its keys and values from memory rather
                // than from the L2 cache (50 MB on an H100), as in a decode step whose other layers evict them.
                var kvBytes = 2L * batch * (Position + 1) * 2 * kvHeads * headDim;
                var copies = (int)Math.Max(2, Math.Ceiling(200e6 / kvBytes));
                var caches = Enumerable.Range(0, copies).Select(_ => randn([batch, Window, heads + (2 * kvHeads), headDim], dtype, device)).ToArray();
                var queries = randn([batch, heads, headDim], dtype, device);
                var at = tensor(new long[] { Position }, ScalarType.Int64, device);
                var output = empty([batch, heads * headDim], dtype, device);

                // One kernel over the caches of a set cut into some chunks: chunks and µs per call.
                (int Chunks, double Us) TimeSplit(DecodeAttention k, Tensor[] set, int chunks, Action<DecodeAttention, Tensor, Tensor?, int> run)
                {
                    var workspace = chunks > 1 ? zeros([DecodeAttention.WorkspaceFloats(batch, heads, headDim, chunks)], ScalarType.Float32, device) : null;
                    var i = 0;
                    return (chunks, GraphSecondsPerCall(() => run(k, set[i++ % set.Length], workspace, chunks), 32) * 1e6);
                }

                // The same, split for a target of busy warps.
                (int Chunks, double Us) Time(DecodeAttention k, Tensor[] set, int target, Action<DecodeAttention, Tensor, Tensor?, int> run) =>
                    TimeSplit(k, set, DecodeAttention.Chunks(batch, kvHeads, Window, target, k.Form), run);

                string Share(double us) => string.Create(CultureInfo.InvariantCulture, $"{kvBytes / (us * 1e-6) / bandwidth:P0}");

                // The engine's layout: [T, H + 2KV, HD].
                void Engine(DecodeAttention k, Tensor cache, Tensor? workspace, int chunks) =>
                    k.Run(queries, cache, at, output, workspace, heads, kvHeads, chunks, Window, CudaGraph.CurrentRawStream());
                foreach (var target in new[] { 528, 1056, 1584, 2112, 3168, 4224 })
                {
                    var (chunks, us) = Time(kernel, caches, target, Engine);
                    r[$"{name}_b{batch}_warps{target}"] = string.Create(CultureInfo.InvariantCulture, $"{chunks} chunks {us:F2} us ({Share(us)} of copy)");
                }

                // The pipelined form at three split targets and at its own split (DecodeAttention.Split), and at one tile
                // of context (position 31) of one query.
                string Us((int Chunks, double Us) t) => string.Create(CultureInfo.InvariantCulture, $"{t.Chunks} chunks {t.Us:F2} us ({Share(t.Us)} of copy)");
                if (pipelined is not null)
                {
                    foreach (var target in new[] { 1056, 2112, 4224 })
                    {
                        r[$"{name}_b{batch}_form1_warps{target}"] = Us(Time(pipelined, caches, target, Engine));
                    }

                    r[$"{name}_b{batch}_form1_split"] = Us(TimeSplit(pipelined, caches, pipelined.Split(batch, kvHeads, Window), Engine));
                    if (batch == 1)
                    {
                        using var near = tensor(new long[] { 31 }, ScalarType.Int64, device);
                        r[$"{name}_b1_form1_position31"] = Us(TimeSplit(pipelined, caches, pipelined.Split(1, kvHeads, Window), (k, cache, workspace, c) =>
                            k.Run(queries, cache, near, output, workspace, heads, kvHeads, c, Window, CudaGraph.CurrentRawStream())));
                    }
                }

                // The kernel's cost apart from its reads: the same split over the window with the device-held position at
                // 31 (one tile of keys), 255 and 1,535 (the sweep's) of one query, so the time at one tile is launch, setup
                // and merge.
                if (batch == 1)
                {
                    foreach (var last in new[] { 31, 255, Position })
                    {
                        using var near = tensor(new long[] { last }, ScalarType.Int64, device);
                        var (chunks, us) = Time(kernel, caches, DecodeAttention.TargetWarps, (k, cache, workspace, c) =>
                            k.Run(queries, cache, near, output, workspace, heads, kvHeads, c, Window, CudaGraph.CurrentRawStream()));
                        r[$"{name}_b1_position{last}"] = string.Create(CultureInfo.InvariantCulture, $"{chunks} chunks {us:F2} us");
                    }
                }

                foreach (var (variant, v) in variants.Select((k, v) => (k, v)).Where(x => x.k is not null && x.v > 0))
                {
                    var (chunks, us) = Time(variant!, caches, DecodeAttention.TargetWarps, Engine);
                    r[$"{name}_b{batch}_variant{v}"] = string.Create(CultureInfo.InvariantCulture, $"{chunks} chunks {us:F2} us ({Share(us)} of copy)");
                }

                // The same keys and values in two layouts without the query rows: [T, 2KV, HD] (a position's keys and values
                // together) and [2, KV, T, HD] (each head's keys contiguous over positions), at two split targets.
                var rows = Enumerable.Range(0, copies).Select(_ => randn([batch, Window, 2 * kvHeads, headDim], dtype, device)).ToArray();
                var major = Enumerable.Range(0, copies).Select(_ => randn([batch, 2, kvHeads, Window, headDim], dtype, device)).ToArray();
                foreach (var target in new[] { 1056, 2112 })
                {
                    var (_, rowsUs) = Time(kernel, rows, target, (k, cache, workspace, chunks) =>
                        k.Run(queries, cache, at, output, workspace, heads, kvHeads, chunks, Window, 2L * kvHeads * headDim, headDim, 0, (long)kvHeads * headDim, CudaGraph.CurrentRawStream()));
                    var (_, majorUs) = Time(kernel, major, target, (k, cache, workspace, chunks) =>
                        k.Run(queries, cache, at, output, workspace, heads, kvHeads, chunks, Window, headDim, (long)Window * headDim, 0, (long)kvHeads * Window * headDim, CudaGraph.CurrentRawStream()));
                    r[$"{name}_b{batch}_warps{target}_layouts"] = string.Create(CultureInfo.InvariantCulture, $"[T, 2KV, HD] {rowsUs:F2} us ({Share(rowsUs)}), [2, KV, T, HD] {majorUs:F2} us ({Share(majorUs)})");
                }
            }
        }

        return r;
    }

    /// <summary>
    /// cuBLAS projections of <c>b</c> rows as the decoders call them, <c>mm(x, W)</c> with <c>W [in, out]</c>, against the
    /// <c>nn.Linear</c> layout, <c>mm(x, Wᵀ)</c> with <c>W [out, in]</c> (another cuBLAS kernel family for few rows), per call
    /// in µs and as a share of the copy rate: 32 calls in a CUDA graph, rotating over enough weight copies (at least 160 MB)
    /// that each call reads its weights from memory, not from the L2 cache, as in a decode step. Shapes: Llama-3-8B's
    /// QKV, output, gate/up and down projections, and GPT-J's QKV.
    /// </summary>
    public static Dictionary<string, object?> GemmSweep(Device device)
    {
        var dtype = ScalarType.BFloat16;
        var r = new Dictionary<string, object?>();
        using var inference = inference_mode();
        var bandwidth = DeviceLimits.CopyBandwidthBytesPerSecond(device, 4L << 30, 20);
        r["copy_bytes_per_second"] = bandwidth;
        foreach (var (name, inputs, outputs) in new[] { ("llama_qkv", 4096, 6144), ("llama_out", 4096, 4096), ("llama_gate_up", 4096, 28672), ("llama_down", 14336, 4096), ("gptj_qkv", 4096, 12288) })
        {
            var bytes = 2L * inputs * outputs;
            var copies = (int)Math.Max(2, Math.Ceiling(160e6 / bytes));
            using var scope = NewDisposeScope();
            var stored = Enumerable.Range(0, copies).Select(_ => randn([inputs, outputs], dtype, device) * 0.02).ToArray();
            var transposed = Enumerable.Range(0, copies).Select(_ => randn([outputs, inputs], dtype, device) * 0.02).ToArray();
            foreach (var b in new[] { 1, 2, 4, 8, 16, 32 })
            {
                var x = randn([b, inputs], dtype, device);
                var i = 0;
                var nn = GraphSecondsPerCall(() => mm(x, stored[i++ % copies]).Dispose(), 32);
                i = 0;
                var nt = GraphSecondsPerCall(() => mm(x, transposed[i++ % copies].t()).Dispose(), 32);
                // Into a residual as the decoders' output and down projections add (cuBLAS with beta = 1).
                var residual = zeros([b, outputs], dtype, device);
                i = 0;
                var add = GraphSecondsPerCall(() => residual.addmm_(x, stored[i++ % copies]), 32);
                r[$"{name}_b{b}"] = string.Create(CultureInfo.InvariantCulture, $"[in,out] {nn * 1e6:F2} us ({bytes / nn / bandwidth:P0} of copy), [out,in]ᵀ {nt * 1e6:F2} us ({bytes / nt / bandwidth:P0}), [in,out] added into a residual {add * 1e6:F2} us ({bytes / add / bandwidth:P0})");
            }
        }

        return r;
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
