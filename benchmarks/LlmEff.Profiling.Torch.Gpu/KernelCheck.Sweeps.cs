using System.Globalization;
using static TorchSharp.torch;

namespace LlmEff.Profiling.Torch.Gpu;

/// <summary>The kernel sweeps: one layer's decode attention and the decoders' projections, timed in CUDA graphs.</summary>
internal static partial class KernelCheck
{
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
}
