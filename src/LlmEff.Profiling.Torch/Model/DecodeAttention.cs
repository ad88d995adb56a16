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
/// window the graph was captured for. Two forms (<see cref="AttentionKernelForm"/>): warp tiles held in registers, and a
/// pipelined one streaming through shared memory; the engine picks one per head shape (<see cref="EngineForm"/>).
/// </summary>
internal sealed unsafe partial class DecodeAttention
{
    /// <summary>Warps per block of the chunk kernel.</summary>
    private const int Warps = 4;

    /// <summary>Busy warps the split aims for: eight per SM of an H100's 132, enough loads in flight to saturate its memory.</summary>
    internal const int TargetWarps = 1056;

    /// <summary>Busy warps the pipelined form's split aims for under a target (<see cref="Chunks"/>): four blocks of four warps per SM of an H100. Its own split (<see cref="Split"/>) is from its occupancy.</summary>
    internal const int PipelinedTargetWarps = 2112;

    /// <summary>The busy warps the splits aim for, for every form; null (each form's own) unless an experiment (the GPU harness) sets it; set it before building a decoder.</summary>
    internal static int? TargetWarpsOverride { get; set; }

    /// <summary>The form <see cref="For(ScalarType, int, int)"/> compiles: null for the engine's (<see cref="EngineForm"/>) unless an experiment (the GPU harness) sets one; set it before building a decoder.</summary>
    internal static AttentionKernelForm? FormInUse { get; set; }

    /// <summary>The busy warps the split of <paramref name="form"/> aims for: <see cref="TargetWarpsOverride"/>, else <see cref="TargetWarps"/> or <see cref="PipelinedTargetWarps"/>.</summary>
    internal static int TargetWarpsFor(AttentionKernelForm form) => TargetWarpsOverride ?? (form == AttentionKernelForm.WarpTiles ? TargetWarps : PipelinedTargetWarps);

    /// <summary>Positions of a warp's tile; chunks are whole tiles.</summary>
    private const int TileTokens = 32;

    /// <summary>
    /// (Query, KV head) pairs from which a batch's step runs the warp tiles even where the engine's form is the pipelined
    /// one: with that much work the warp tiles read the caches at 80–97 % of the copy rate, and measured 2.6 µs a layer
    /// faster for Llama-3-8B at b = 32 (256 pairs) and 3.8 µs for GPT-J at b = 16 (256), on an H100.
    /// </summary>
    internal const int PipelinedMostPairs = 256;

    /// <summary>Tiles a block of the pipelined forms aims to stream (<see cref="Split"/>).</summary>
    private const int PipelinedBlockTiles = 7;

    /// <summary>What both forms' sources share: warp reductions, the 16-byte unpack to fp32, and the kernel that merges the chunks.</summary>
    private const string CommonSource = """
        #define NEG_INF (-__int_as_float(0x7f800000))
        #if LLMEFF_FP32
        #define VE 4
        #else
        #define VE 8
        #endif

        __device__ __forceinline__ float warp_sum(float v) {
            #pragma unroll
            for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
            return v;
        }

        __device__ __forceinline__ float warp_max(float v) {
            #pragma unroll
            for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
            return v;
        }

        // The VE values of a 16-byte load, to fp32.
        __device__ __forceinline__ void unpack(uint4 u, float* o) {
        #if LLMEFF_FP32
            o[0] = __uint_as_float(u.x); o[1] = __uint_as_float(u.y); o[2] = __uint_as_float(u.z); o[3] = __uint_as_float(u.w);
        #else
            unsigned int w[4] = { u.x, u.y, u.z, u.w };
            #pragma unroll
            for (int i = 0; i < 4; i++) { o[2 * i] = __uint_as_float(w[i] << 16); o[2 * i + 1] = __uint_as_float(w[i] & 0xffff0000u); }
        #endif
        }


        // Block (h, b), one thread per value: merges the S chunks of head h of query b.
        extern "C" __global__ void decode_attention_merge(const float* part, T* out, int H, int KV, int S) {
            GRID_DEPENDENCY();
            const int h = blockIdx.x, b = blockIdx.y, d = threadIdx.x;
            if (d >= HD) return;
            const float* p = part + ((long long)b * H + h) * S * (HD + 2);
            float M = NEG_INF;
            #pragma unroll 8
            for (int s = 0; s < S; s++) M = fmaxf(M, p[s * (HD + 2) + HD]);
            float num = 0.f, den = 0.f;
            #pragma unroll 8
            for (int s = 0; s < S; s++) {
                float ms = p[s * (HD + 2) + HD];
                if (ms != NEG_INF) { float f = __expf(ms - M); num += f * p[s * (HD + 2) + d]; den += f * p[s * (HD + 2) + HD + 1]; }
            }

            int kv = h / G, g = h - kv * G;
            out[(long long)b * H * HD + (g * KV + kv) * HD + d] = st(num / den);
        }
        """;

    private static readonly Dictionary<(ScalarType, int, int, int, WeightPrefetch, AttentionKernelForm), (DecodeAttention?, string?)> Compiled = [];

    /// <summary>
    /// Compile-time variants of the chunk kernel, for measuring register pressure against resident warps: the fewest resident
    /// blocks per SM its launch bounds ask for (the compiler caps registers to fit them) and the most value rows a lane
    /// prefetches. Variant 0 is the engine's.
    /// </summary>
    internal static readonly (int MinBlocks, int ValueRows)[] Variants = [(1, 32), (3, 32), (1, 16), (3, 16), (4, 8)];

    /// <summary>The variant <see cref="For(ScalarType, int, int)"/> compiles: 0 (the engine's) unless an experiment (the GPU harness) sets another; set it before building a decoder.</summary>
    internal static int VariantInUse { get; set; }

    private readonly CudaRuntimeCompiler _compiler;
    private readonly IntPtr _chunk;
    private readonly IntPtr _merge;
    private readonly WeightPrefetch _prefetchMode;
    private readonly Lazy<int> _residentBlocks;
    private readonly Lazy<int> _multiprocessors;

    private DecodeAttention(CudaRuntimeCompiler compiler, IReadOnlyDictionary<string, IntPtr> functions, int headDim, int groups, WeightPrefetch prefetch, AttentionKernelForm form)
    {
        _compiler = compiler;
        _prefetchMode = prefetch;
        Form = form;
        _chunk = functions[form == AttentionKernelForm.WarpTiles ? "decode_attention" : "decode_attention_pipe"];
        _merge = functions["decode_attention_merge"];
        HeadDim = headDim;
        Groups = groups;
        _residentBlocks = new(() => Math.Max(1, compiler.ResidentBlocks(_chunk, Warps * 32)));
        _multiprocessors = new(() => Math.Max(1, compiler.Multiprocessors()));
    }

    /// <summary>How this kernel reads its chunks.</summary>
    public AttentionKernelForm Form { get; }

    /// <summary>The form as a profile's software string names it: "pipelined" or "warp-tile".</summary>
    public string FormName => Form == AttentionKernelForm.Pipelined ? "pipelined" : "warp-tile";

    /// <summary>Whether <see cref="Run(Tensor, Tensor, Tensor, Tensor, Tensor?, int, int, int, int, IntPtr, Tensor?, Tensor?)"/> asks the L2 for the weights it is given (<see cref="WeightPrefetch.Attention"/>, <see cref="WeightPrefetch.AttentionAndFfn"/>, warp-tile form only); the rotary kernel does not then.</summary>
    public bool PrefetchesWeights => Form == AttentionKernelForm.WarpTiles && _prefetchMode is WeightPrefetch.Attention or WeightPrefetch.AttentionAndFfn;

    /// <summary>Values per head.</summary>
    public int HeadDim { get; }

    /// <summary>Query heads per KV head.</summary>
    public int Groups { get; }

    /// <summary>Registers a thread of the chunk kernel uses, as compiled for this device (what bounds its resident warps).</summary>
    public int ChunkKernelRegisters => _compiler.Registers(_chunk);

    /// <summary>Local memory bytes a thread of the chunk kernel uses (register spills), as compiled for this device.</summary>
    public int ChunkKernelLocalBytes => _compiler.LocalBytes(_chunk);

    /// <summary>Why the kernel does not serve heads of <paramref name="headDim"/> values in groups of <paramref name="groups"/>, or null when it does.</summary>
    public static string? UnsupportedReason(int headDim, int groups) =>
        headDim % 32 != 0 || headDim > 256
            ? $"the decode attention kernel takes head sizes that are multiples of 32 up to 256, not {headDim}."
            : groups * (headDim / 32) > 32
                ? $"the decode attention kernel keeps at most 32 values per lane; {groups} query heads per KV head of {headDim} values need {groups * headDim / 32}."
                : null;

    /// <summary>
    /// Why the pipelined forms do not serve heads of <paramref name="headDim"/> values of <paramref name="dtype"/> in groups of
    /// <paramref name="groups"/> (the warp-tile form then runs), or null when they do: a row must be 4, 8, 16 or 32 pieces of
    /// 16 bytes (one warp's lanes sum it), and a thread keeps at most 64 query and 64 output values.
    /// </summary>
    public static string? PipelinedUnsupportedReason(ScalarType dtype, int headDim, int groups)
    {
        var perPiece = dtype == ScalarType.Float32 ? 4 : 8;
        var pieces = headDim / perPiece;
        return headDim % perPiece != 0 || pieces is not (4 or 8 or 16 or 32)
            ? $"the pipelined decode attention reads rows of 64, 128, 256 or 512 bytes, not {headDim} values of {dtype}."
            : groups * perPiece > 64
                ? $"the pipelined decode attention keeps at most 64 values per thread; {groups} query heads per KV head need {groups * perPiece}."
                : null;
    }

    /// <summary>
    /// The form the engine runs for heads of <paramref name="headDim"/> values of <paramref name="dtype"/> in groups of
    /// <paramref name="groups"/>: the pipelined one where it serves the shape and a KV head serves at most four query heads,
    /// else the warp tiles. Measured on an H100 at b = 1 … 32 and 1,536 positions (docs/benchmarks.md): pipelined 13–18 %
    /// faster per layer for Llama-3-8B's heads (G = 4) at b = 4–16 and GPT-J's (G = 1) at b = 2–4, within 3 % elsewhere;
    /// with eight query heads a KV head (Qwen3-30B-A3B) its arithmetic per byte made it 8 % slower at one query.
    /// </summary>
    public static AttentionKernelForm EngineForm(ScalarType dtype, int headDim, int groups) =>
        groups <= 4 && PipelinedUnsupportedReason(dtype, headDim, groups) is null ? AttentionKernelForm.Pipelined : AttentionKernelForm.WarpTiles;

    /// <summary>The kernel for <paramref name="dtype"/>, head size and group size on the current CUDA device (compiled once per process), or null with the reason.</summary>
    public static (DecodeAttention? Kernel, string? Reason) For(ScalarType dtype, int headDim, int groups) =>
        For(dtype, headDim, groups, VariantInUse, FormInUse ?? EngineForm(dtype, headDim, groups));

    /// <summary>
    /// As <see cref="For(ScalarType, int, int)"/>, in <paramref name="form"/> (the warp-tile form where a pipelined one does
    /// not serve the shape), the warp-tile form compiled as <see cref="Variants"/>[<paramref name="variant"/>].
    /// </summary>
    internal static (DecodeAttention? Kernel, string? Reason) For(ScalarType dtype, int headDim, int groups, int variant, AttentionKernelForm form = AttentionKernelForm.WarpTiles)
    {
        if (UnsupportedReason(headDim, groups) is { } unsupported)
        {
            return (null, unsupported);
        }

        var compiled = form != AttentionKernelForm.WarpTiles && PipelinedUnsupportedReason(dtype, headDim, groups) is null ? form : AttentionKernelForm.WarpTiles;
        var prefetch = compiled == AttentionKernelForm.WarpTiles ? DecodeKernels.WeightPrefetchInUse : WeightPrefetch.Off;
        var v = compiled == AttentionKernelForm.WarpTiles ? variant : 0;
        return RuntimeKernels.Compile(Compiled, (dtype, headDim, groups, v, prefetch, compiled), dtype, SourceFor(headDim, groups, compiled, v, prefetch), (c, f) => new DecodeAttention(c, f, headDim, groups, prefetch, compiled));
    }

    /// <summary>
    /// The source NVRTC compiles for heads of <paramref name="headDim"/> values in groups of <paramref name="groups"/> in
    /// <paramref name="form"/> (the warp tiles as <see cref="Variants"/>[<paramref name="variant"/>], with
    /// <paramref name="prefetch"/>); for a shape the form serves.
    /// </summary>
    internal static KernelSource SourceFor(int headDim, int groups, AttentionKernelForm form, int variant = 0, WeightPrefetch prefetch = WeightPrefetch.Off)
    {
        if (form == AttentionKernelForm.Pipelined)
        {
            return new("decode attention kernels", string.Create(CultureInfo.InvariantCulture, $"#define HD {headDim}\n#define G {groups}\n#define WARPS {Warps}\n#define ST 4\n"), CommonSource + "\n" + PipelinedSource, ["decode_attention_pipe", "decode_attention_merge"]);
        }

        var (minBlocks, valueRows) = Variants[variant];
        var defines = string.Create(CultureInfo.InvariantCulture, $"#define HD {headDim}\n#define G {groups}\n#define WARPS {Warps}\n#define MINB {minBlocks}\n#define VBMAX {valueRows}\n#define PF_MODE {(int)prefetch}\n");
        return new("decode attention kernels", defines, CommonSource + "\n" + WarpTilesSource, ["decode_attention", "decode_attention_merge"]);
    }

    /// <summary>
    /// How many chunks to cut a context of up to <paramref name="windowTokens"/> positions into, for a batch of
    /// <paramref name="batch"/> queries with <paramref name="keyValueHeads"/> KV heads, for the kernel of
    /// <paramref name="form"/> (<see cref="FormInUse"/>, else the warp tiles, when not told): in the warp-tile form each warp of a chunk takes
    /// the same number of <see cref="TileTokens"/>-position tiles, as few as keep about <see cref="TargetWarps"/> warps
    /// busy (one each when the whole context has fewer tiles than that); in the pipelined forms each block (four warps)
    /// streams as few tiles as keep about <see cref="PipelinedTargetWarps"/> warps busy. Each chunk is
    /// <see cref="ChunkTokens"/> long.
    /// </summary>
    public static int Chunks(int batch, int keyValueHeads, int windowTokens, int? targetWarps = null, AttentionKernelForm? form = null)
    {
        var kernelForm = form ?? FormInUse ?? AttentionKernelForm.WarpTiles;
        var target = targetWarps ?? TargetWarpsFor(kernelForm);
        var tiles = (windowTokens + TileTokens - 1) / TileTokens;
        var all = (long)batch * keyValueHeads * tiles;
        var chunkTiles = kernelForm == AttentionKernelForm.WarpTiles
            ? Math.Max(1, (int)((all + target - 1) / target)) * Warps
            : Math.Max(1, (int)((all + (target / Warps) - 1) / (target / Warps)));
        return (tiles + chunkTiles - 1) / chunkTiles;
    }

    /// <summary>
    /// The most chunks any captured window asks for, for windows of <paramref name="windowTokens"/> positions up to a cache
    /// of <paramref name="capacityTokens"/> (the last one shorter): what a workspace serving every window must hold. Not
    /// always the longest window's count, since a longer context can move every warp to two tiles and halve the chunks.
    /// </summary>
    public static int MostChunks(int batch, int keyValueHeads, int windowTokens, int capacityTokens, AttentionKernelForm? form = null)
    {
        var most = 0;
        for (var end = windowTokens; end - windowTokens < capacityTokens; end += windowTokens)
        {
            most = Math.Max(most, Chunks(batch, keyValueHeads, Math.Min(end, capacityTokens), form: form));
        }

        return most;
    }

    /// <summary>Positions per chunk when a window of <paramref name="windowTokens"/> is cut into <paramref name="chunks"/>: whole tiles, so the last chunk may be shorter.</summary>
    public static int ChunkTokens(int windowTokens, int chunks)
    {
        var tiles = (windowTokens + TileTokens - 1) / TileTokens;
        return (tiles + chunks - 1) / chunks * TileTokens;
    }

    /// <summary>Floats of the chunk workspace for <paramref name="chunks"/> chunks.</summary>
    public static long WorkspaceFloats(int batch, int heads, int headDim, int chunks) => chunks <= 1 ? 0 : (long)batch * heads * chunks * (headDim + 2);

    /// <summary>
    /// <paramref name="output"/> <c>[b, H·HD]</c> = softmax(q·Kᵀ/√HD)·V over positions 0..<paramref name="position"/> of
    /// each query's cache, for <paramref name="queries"/> <c>[b, H, HD]</c> and caches <c>[T, H + 2KV, HD]</c>
    /// consecutive in <paramref name="cacheLayer"/>; heads in (group, KV head) order, as the output projection takes them.
    /// Where this kernel prefetches (<see cref="PrefetchesWeights"/>), also asks the L2 for the contiguous <paramref name="prefetch"/>,
    /// then (<see cref="WeightPrefetch.AttentionAndFfn"/>) for the first <see cref="DecodeKernels.FfnPrefetchBytes"/> of <paramref name="prefetchNext"/>.
    /// </summary>
    public void Run(Tensor queries, Tensor cacheLayer, Tensor position, Tensor output, Tensor? workspace, int heads, int keyValueHeads, int chunks, int windowTokens, IntPtr stream, Tensor? prefetch = null, Tensor? prefetchNext = null) =>
        Run(queries, cacheLayer, position, output, workspace, heads, keyValueHeads, chunks, windowTokens, (long)(heads + (2 * keyValueHeads)) * HeadDim, HeadDim, (long)heads * HeadDim, (long)keyValueHeads * HeadDim, stream, prefetch, prefetchNext);

    /// <summary>
    /// As <see cref="Run(Tensor, Tensor, Tensor, Tensor, Tensor?, int, int, int, int, IntPtr, Tensor?, Tensor?)"/> for any cache layout with rows of
    /// <see cref="HeadDim"/> values: in elements, <paramref name="positionStride"/> between positions, <paramref name="headStride"/>
    /// between KV heads, <paramref name="keyOffset"/> to the first key row and <paramref name="valueOffset"/> from a head's
    /// key row to its value row (the engine's <c>[T, H + 2KV, HD]</c> layout: (H + 2KV)·HD, HD, H·HD, KV·HD). For measuring
    /// other layouts against the engine's.
    /// </summary>
    public void Run(Tensor queries, Tensor cacheLayer, Tensor position, Tensor output, Tensor? workspace, int heads, int keyValueHeads, int chunks, int windowTokens, long positionStride, long headStride, long keyOffset, long valueOffset, IntPtr stream, Tensor? prefetch = null, Tensor? prefetchNext = null)
    {
        Launch(queries, (int)queries.shape[0], cacheLayer, position, output, workspace, heads, keyValueHeads, chunks, windowTokens, positionStride, headStride, keyOffset, valueOffset, stream, prefetch, prefetchNext);
    }

    /// <summary>
    /// How many chunks this kernel cuts a context of up to <paramref name="windowTokens"/> positions into for
    /// <paramref name="batch"/> queries with <paramref name="keyValueHeads"/> KV heads. The warp-tile form, or any form
    /// under <see cref="TargetWarpsOverride"/>, as <see cref="Chunks"/>. The pipelined form from its occupancy: no more
    /// blocks than can be resident at once (one wave), and up to <see cref="PipelinedBlockTiles"/> tiles a block (fourteen
    /// stages, so the pipeline's fill and each block's fixed work are a small part of it) while that leaves at least 1.5
    /// blocks per SM. On an H100 that rule gives, for Llama-3-8B's heads at b = 1 … 32, the fastest of the splits measured
    /// (docs/benchmarks.md).
    /// </summary>
    public int Split(int batch, int keyValueHeads, int windowTokens)
    {
        if (Form == AttentionKernelForm.WarpTiles || TargetWarpsOverride is not null)
        {
            return Chunks(batch, keyValueHeads, windowTokens, form: Form);
        }

        return PipelinedSplit(batch, keyValueHeads, windowTokens, _residentBlocks.Value, _multiprocessors.Value);
    }

    /// <summary><see cref="Split"/>'s rule for the pipelined form, given the blocks that can be resident and the SMs.</summary>
    internal static int PipelinedSplit(int batch, int keyValueHeads, int windowTokens, int residentBlocks, int multiprocessors)
    {
        var tiles = (windowTokens + TileTokens - 1) / TileTokens;
        var heads = (long)batch * keyValueHeads;
        var all = heads * tiles;
        var resident = Math.Max(1, residentBlocks);
        var fewest = Math.Max(1, multiprocessors * 3 / 2);
        var perBlock = Math.Max(1, Math.Max((all + resident - 1) / resident, Math.Min(PipelinedBlockTiles, all / fewest)));
        // Whole tiles a chunk, and never more chunks than keep every (query, KV head)'s blocks in one wave.
        return (int)Math.Max(1, Math.Min((tiles + perBlock - 1) / perBlock, resident / heads));
    }

    /// <summary>As <see cref="MostChunks"/> for <see cref="Split"/>: the most chunks any captured window asks for.</summary>
    public int MostSplits(int batch, int keyValueHeads, int windowTokens, int capacityTokens)
    {
        var most = 0;
        for (var end = windowTokens; end - windowTokens < capacityTokens; end += windowTokens)
        {
            most = Math.Max(most, Split(batch, keyValueHeads, Math.Min(end, capacityTokens)));
        }

        return most;
    }

    private void Launch(Tensor queries, int batch, Tensor cacheLayer, Tensor position, Tensor output, Tensor? workspace, int heads, int keyValueHeads, int chunks, int windowTokens, long positionStride, long headStride, long keyOffset, long valueOffset, IntPtr stream, Tensor? prefetch, Tensor? prefetchNext)
    {
        var (pf, pfBytes) = DecodeKernels.PrefetchArguments(PrefetchesWeights ? prefetch : null);
        var (pf2, pf2Bytes) = DecodeKernels.PrefetchArguments(PrefetchesWeights && _prefetchMode == WeightPrefetch.AttentionAndFfn ? prefetchNext : null, DecodeKernels.FfnPrefetchBytes);
        if (chunks > 1 && (workspace is null || workspace.numel() < WorkspaceFloats(batch, heads, HeadDim, chunks)))
        {
            throw new ArgumentException($"{chunks} chunks need a workspace of {WorkspaceFloats(batch, heads, HeadDim, chunks)} floats.", nameof(workspace));
        }

        var cacheStride = cacheLayer.numel() / batch;
        // Whole tiles per chunk; rounding up may leave fewer chunks than asked (the workspace is then larger than needed).
        var chunkTokens = ChunkTokens(windowTokens, chunks);
        var scale = (float)(1.0 / Math.Sqrt(HeadDim));
        IntPtr pq = Ptr(queries), pc = Ptr(cacheLayer), pp = Ptr(position), po = Ptr(output), pw = workspace is null ? 0 : Ptr(workspace);
        int h = heads, kv = keyValueHeads, s = (windowTokens + chunkTokens - 1) / chunkTokens;
        long rs = positionStride, hs = headStride, ko = keyOffset, vo = valueOffset;
        if (Form == AttentionKernelForm.WarpTiles)
        {
            var args = stackalloc void*[] { &pq, &pc, &pp, &po, &pw, &h, &kv, &cacheStride, &rs, &hs, &ko, &vo, &chunkTokens, &scale, &pf, &pfBytes, &pf2, &pf2Bytes };
            _compiler.Launch(_chunk, (uint)s, (uint)keyValueHeads, (uint)batch, Warps * 32, stream, args);
        }
        else
        {
            var args = stackalloc void*[] { &pq, &pc, &pp, &po, &pw, &h, &kv, &cacheStride, &rs, &hs, &ko, &vo, &chunkTokens, &scale };
            _compiler.Launch(_chunk, (uint)s, (uint)keyValueHeads, (uint)batch, Warps * 32, stream, args);
        }

        if (s > 1)
        {
            var merge = stackalloc void*[] { &pw, &po, &h, &kv, &s };
            _compiler.Launch(_merge, (uint)heads, (uint)batch, 1, (uint)(((HeadDim + 31) / 32) * 32), stream, merge);
        }
    }

    private static IntPtr Ptr(Tensor t) => NcclTensors.DataPointer(t);
}
