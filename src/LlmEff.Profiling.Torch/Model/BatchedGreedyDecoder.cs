using System.Globalization;
using LlmEff.Core.Architecture;
using TorchSharp;
using static TorchSharp.torch;

namespace LlmEff.Profiling.Torch;

/// <summary>
/// Greedy generation of a static batch of <c>b</c> queries with the same prompt length: one prefill pass over the
/// <c>[b, p]</c> prompts, then exactly <c>o − 1</c> decode steps of all <c>b</c> tokens at once (no early stop), so its
/// runtime is the batched <c>t(p, o, b)</c>. A step reads the weights once and each query's KV cache. The decoder serves
/// the batch sizes it was built for (buckets): a batch runs in the smallest bucket that holds it, padded with copies of
/// its first prompt. On a CUDA GPU each bucket's decode step is captured as CUDA graphs (one per window of
/// <see cref="WindowTokens"/> context positions), as <see cref="GreedyDecoder"/> does for one query.
/// </summary>
public sealed partial class BatchedGreedyDecoder : IDisposable
{
    private readonly jit.CompilationUnit _script;
    private readonly Tensor[] _layerTensors;
    private readonly Tensor[] _globals;
    private readonly Tensor[] _cache;
    private readonly Tensor _token;
    private readonly Tensor _position;
    private readonly Tensor _history;
    private readonly int[] _buckets;
    private readonly Bucket[] _views;
    private readonly CudaGraph[][]? _graphs;
    private StepPieces? _pieces;
    private readonly DecodeKernels? _kernels;
    private readonly DecodeAttention? _attention;
    private readonly DecodeAttention? _attentionWide;

    /// <summary>Compiles the batched passes and allocates one KV cache per query of the largest bucket; on a CUDA GPU, captures each bucket's decode step (<see cref="CudaGraphMode.Auto"/>).</summary>
    /// <param name="model">The model (a whole model or a shard); it must outlive this decoder.</param>
    /// <param name="capacityTokens">Largest <c>p + o − 1</c> to be generated; at most the architecture's context length.</param>
    /// <param name="batchSizes">The batch sizes to serve (buckets), each at least 1.</param>
    /// <exception cref="InsufficientGpuMemoryException">On a GPU, the caches and workspace of the largest bucket do not fit its free memory; checked before allocating, the message gives the memory needed and the largest batch that fits.</exception>
    public BatchedGreedyDecoder(DecoderTransformer model, int capacityTokens, IReadOnlyList<int> batchSizes)
        : this(model, capacityTokens, batchSizes, CudaGraphMode.Auto)
    {
    }

    /// <summary>As the other constructor, with the CUDA-graph mode (see <see cref="GreedyDecoder(DecoderTransformer, int, CudaGraphMode)"/>).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A batch size below 1, or the capacity out of range.</exception>
    /// <exception cref="InsufficientGpuMemoryException">The largest bucket does not fit the GPU's free memory.</exception>
    /// <exception cref="NotSupportedException"><paramref name="cudaGraphs"/> is <see cref="CudaGraphMode.Required"/> and CUDA graphs are not available.</exception>
    public BatchedGreedyDecoder(DecoderTransformer model, int capacityTokens, IReadOnlyList<int> batchSizes, CudaGraphMode cudaGraphs)
        : this(model, capacityTokens, batchSizes, cudaGraphs, GreedyDecoder.DefaultWindowTokens, availableBytes: null)
    {
    }

    /// <summary>
    /// With the window size settable, the free memory given instead of read from NVML (CPU tests of the refusal), and the
    /// fused kernels optional (the benchmark's baseline: the step as one TorchScript call).
    /// </summary>
    internal BatchedGreedyDecoder(DecoderTransformer model, int capacityTokens, IReadOnlyList<int> batchSizes, CudaGraphMode cudaGraphs, int windowTokens, long? availableBytes, bool fusedKernels = true, bool attentionKernel = true)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(batchSizes);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacityTokens, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(windowTokens, 1);
        if (batchSizes.Count == 0 || batchSizes.Any(b => b < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(batchSizes), string.Join(",", batchSizes), "Batch sizes count queries run together: give one or more, each 1 or more (e.g. 1,4,16).");
        }

        if (!Enum.IsDefined(cudaGraphs))
        {
            throw new ArgumentOutOfRangeException(nameof(cudaGraphs), cudaGraphs, "Use CudaGraphMode.Auto, Off or Required.");
        }

        if (capacityTokens > model.Architecture.MaxContextTokens)
        {
            throw new ArgumentOutOfRangeException(nameof(capacityTokens), capacityTokens, $"{model.Architecture.Name} has a context of {model.Architecture.MaxContextTokens} tokens; ask for at most that many.");
        }

        if (UnsupportedReason(model.Architecture) is { } unsupported)
        {
            throw new NotSupportedException(unsupported);
        }

        _buckets = [.. batchSizes.Distinct().Order()];
        var maxBatch = _buckets[^1];
        EnsureFits(model, capacityTokens, maxBatch, availableBytes);

        Model = model;
        CapacityTokens = capacityTokens;
        WindowTokens = windowTokens;
        var s = model.Shape;
        var dtype = model.Precision.ToScalarType();
        _cache = new Tensor[s.Layers];
        for (var i = 0; i < s.Layers; i++)
        {
            // [B, T, heads + 2·kvHeads, headDim]: a bucket of b queries uses the first b (a contiguous view).
            _cache[i] = zeros([maxBatch, capacityTokens, s.Heads + (2L * s.KeyValueHeads), s.HeadDim], dtype, model.Device);
        }

        _token = zeros([maxBatch], ScalarType.Int64, model.Device);
        _position = zeros([1], ScalarType.Int64, model.Device);
        _history = zeros([maxBatch, capacityTokens + 1L], ScalarType.Int64, model.Device);
        var unavailable = cudaGraphs == CudaGraphMode.Off ? null : CudaGraph.UnavailableReasonFor(model.Device);
        if (cudaGraphs != CudaGraphMode.Off && unavailable is null && fusedKernels)
        {
            (_kernels, _attention, _attentionWide) = FusedKernelsFor(model, maxBatch);
            // Without the attention kernel the fused step runs SDPA over the window (f_attn_ref) between the same pieces.
            _attention = attentionKernel ? _attention : null;
            _attentionWide = attentionKernel ? _attentionWide : null;
        }

        _views = [.. _buckets.Select(b => new Bucket(b, _cache, _token, _history, s, dtype, model.Device, MostAttentionChunks(b), model.Architecture.Block == BlockLayout.Parallel))];
        _layerTensors = [.. model.ScriptLayerTensors()];
        _globals = [.. model.ScriptGlobals()];
        Source = BatchedDecoderScript.Build(model.Architecture, s, model.Options.NormEpsilon, model.Options.AlignFfnWidth);
        _script = jit.compile(Source);

        if (cudaGraphs != CudaGraphMode.Off)
        {
            if (unavailable is null)
            {
                _graphs = CaptureGraphs();
            }
            else if (cudaGraphs == CudaGraphMode.Required)
            {
                Dispose();
                throw new NotSupportedException($"CudaGraphMode.Required: {unavailable} Use CudaGraphMode.Auto to fall back to interpreted steps.");
            }
        }
    }

    /// <summary>
    /// Why the batched engine cannot run <paramref name="architecture"/>, or null when it can: its script has the dense
    /// feed-forward and full causal attention only, so a mixture of experts or a sliding window would be timed wrongly.
    /// </summary>
    internal static string? UnsupportedReason(TransformerArchitecture architecture) =>
        architecture.IsMixtureOfExperts
            ? $"{architecture.Name} is a mixture of experts; the batched engine builds dense feed-forward layers only."
            : architecture.SlidingWindowTokens is { } window
                ? $"{architecture.Name} uses sliding-window attention ({window} tokens); the batched engine attends over the whole context."
                : null;

    /// <summary>The model being run.</summary>
    public DecoderTransformer Model { get; }

    /// <summary>KV-cache capacity per query in token positions.</summary>
    public int CapacityTokens { get; }

    /// <summary>The batch sizes served (buckets), ascending.</summary>
    public IReadOnlyList<int> BatchSizes => _buckets;

    /// <summary>Context window of one captured decode step (see <see cref="GreedyDecoder.WindowTokens"/>).</summary>
    public int WindowTokens { get; }

    /// <summary>True when decode steps replay captured CUDA graphs.</summary>
    public bool UsesCudaGraphs => _graphs is not null;

    /// <summary>
    /// True when the captured step uses the run-time compiled fused kernels of the single-query path, per query row (norm
    /// with the pending bias, rotary with the cache write, a gated FFN's activation): bf16 or fp32 stages with the head,
    /// where NVRTC is found.
    /// </summary>
    public bool UsesFusedKernels => _graphs is not null && _kernels is not null;

    /// <summary>
    /// True when the captured step's attention is the split-KV decode kernel, which reads each query's cache up to its
    /// position only, instead of scaled_dot_product_attention over the captured window (fused kernels in use, no ALiBi,
    /// head sizes the kernel takes).
    /// </summary>
    public bool UsesAttentionKernel => UsesFusedKernels && _attention is not null;

    /// <summary>The forms of the decode attention kernel the captured steps run, by bucket ("pipelined", "pipelined and warp-tile"), or null without it.</summary>
    internal string? AttentionForms => !UsesAttentionKernel
        ? null
        : string.Join(" and ", _buckets.Select(b => AttentionFor(b)!.FormName).Distinct());

    /// <summary>The TorchScript source of the batched passes (for inspection).</summary>
    public string Source { get; }

    /// <summary>Bytes of all the caches: one <see cref="GpuMemoryRequirement.CacheBytes(ShardShape, int, ModelPrecision)"/> per query of the largest bucket.</summary>
    public long KvCacheBytes => GpuMemoryRequirement.CacheBytes(Model.Shape, CapacityTokens, Model.Precision) * _buckets[^1];

    /// <summary>
    /// Generates exactly <paramref name="outputTokens"/> tokens greedily for each of the <c>b</c> prompts of
    /// <paramref name="promptTokens"/> <c>[b, p]</c> (int64 ids on the model's device); returns the ids <c>[b, o]</c>.
    /// Asynchronous on CUDA: synchronise before reading the clock.
    /// </summary>
    /// <exception cref="ArgumentException">The prompt is not <c>[b, p]</c> with <c>b</c> at most the largest batch size and <c>p ≥ 1</c>, or <c>p + o − 1</c> exceeds the capacity.</exception>
    public Tensor Generate(Tensor promptTokens, int outputTokens) => Generate(promptTokens, outputTokens, afterPrefill: null);

    /// <summary>As <see cref="Generate(Tensor, int)"/>, calling <paramref name="afterPrefill"/> between the prefill and the first decode step (a harness times the decode steps alone from there).</summary>
    internal Tensor Generate(Tensor promptTokens, int outputTokens, Action? afterPrefill)
    {
        ArgumentNullException.ThrowIfNull(promptTokens);
        if (promptTokens.dim() != 2 || promptTokens.shape[0] < 1 || promptTokens.shape[1] < 1)
        {
            throw new ArgumentException($"promptTokens must have shape [b, p] with b, p >= 1; got [{string.Join(", ", promptTokens.shape)}].", nameof(promptTokens));
        }

        var b = (int)promptTokens.shape[0];
        var p = (int)promptTokens.shape[1];
        var k = Array.FindIndex(_buckets, x => x >= b);
        if (k < 0)
        {
            throw new ArgumentException($"A batch of {b} exceeds the largest batch size this decoder serves ({_buckets[^1]}); build it with that batch size.", nameof(promptTokens));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(outputTokens, 1);
        if (p + outputTokens - 1 > CapacityTokens)
        {
            throw new ArgumentOutOfRangeException(nameof(outputTokens), outputTokens, $"p + o - 1 = {p + outputTokens - 1} exceeds the KV cache capacity of {CapacityTokens} tokens; create the decoder with a larger capacity.");
        }

        var bucket = _views[k];
        using var inference = inference_mode();
        TorchScriptExecutor.UsePlainInterpreter();
        using var scope = NewDisposeScope();
        var prompt = b == bucket.Size
            ? promptTokens
            : cat([promptTokens, promptTokens.narrow(0, 0, 1).expand(bucket.Size - b, p)], 0);
        Invoke(bucket, "prefill_static", prompt, bucket.Token, _position, bucket.History).Dispose();
        afterPrefill?.Invoke();
        for (var i = 1; i < outputTokens; i++)
        {
            var window = (p + i - 1) / WindowTokens;
            if (_graphs is not null)
            {
                _graphs[k][window].Replay();
            }
            else
            {
                DecodeStatic(bucket, window);
            }
        }

        return bucket.History.narrow(0, 0, b).narrow(1, p, outputTokens).clone().MoveToOuterDisposeScope();
    }

    /// <summary>The last prompt position's logits <c>[b, vocab rows]</c> of a <c>[b, p]</c> prompt of exactly a served batch size (for tests).</summary>
    internal Tensor PrefillLogits(Tensor promptTokens)
    {
        var k = Array.IndexOf(_buckets, (int)promptTokens.shape[0]);
        using var inference = inference_mode();
        TorchScriptExecutor.UsePlainInterpreter();
        return Invoke(_views[k], "prefill_logits", promptTokens);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var graph in (_graphs ?? []).SelectMany(g => g))
        {
            graph.Dispose();
        }

        foreach (var v in _views ?? [])
        {
            v.Dispose();
        }

        _script?.Dispose();
        _token?.Dispose();
        _position?.Dispose();
        _history?.Dispose();
        foreach (var t in _cache ?? [])
        {
            t?.Dispose();
        }
    }

    /// <summary>Refuses, before allocating, a largest bucket whose caches and workspace do not fit the GPU's free memory (the weights are already there).</summary>
    private static void EnsureFits(DecoderTransformer model, int capacityTokens, int batchSize, long? availableBytes)
    {
        long? total = null;
        if (availableBytes is null && model.Device.type == DeviceType.CUDA && NvmlGpu.TryOpen(Math.Max(0, model.Device.index)) is { } gpu)
        {
            var info = gpu.Query();
            availableBytes = info.FreeMemoryBytes;
            total = info.TotalMemoryBytes;
        }

        if (availableBytes is not { } free)
        {
            return;
        }

        // The weights are resident already: what must still fit is the caches and the workspace.
        var need = GpuMemoryRequirement.EstimateBatched(model.Architecture, model.Shape, model.Precision, capacityTokens, capacityTokens, batchSize);
        var extra = need.KvCacheBytes + need.WorkspaceBytes;
        if (extra <= free)
        {
            return;
        }

        var largest = GpuMemoryRequirement.LargestBatchSize(model.Architecture, model.Shape, model.Precision, capacityTokens, capacityTokens, free + need.WeightBytes);
        // The exception reports the memory really free; the weights, built already, are not counted against it.
        throw new InsufficientGpuMemoryException(
            $"A batch of {batchSize} of {model.Architecture.Name}",
            need,
            free,
            need.GpusNeeded(Math.Max(1, (total ?? free) - GpuMemoryRequirement.FixedOverheadBytes)),
            string.Create(CultureInfo.InvariantCulture, $"its weights are resident already, so the KV cache and workspace ({extra / (double)(1L << 30):F1} GiB) must fit the free memory; {GpuMemoryRequirement.BatchAdvice(capacityTokens, largest)}"));
    }

    private Tensor Invoke(Bucket bucket, string function, params object[] leading) =>
        (Tensor)_script.invoke(function, [.. leading, _layerTensors, _globals, bucket.Cache, bucket.Keys, bucket.Values]);

    private int WindowLength(int window) => (int)Math.Min((long)WindowTokens * (window + 1), CapacityTokens);

    private int WindowCount => ((CapacityTokens - 1) / WindowTokens) + 1;

    private void DecodeStatic(Bucket bucket, int window) =>
        Invoke(bucket, "decode_static", bucket.Token, _position, bucket.History, WindowLength(window)).Dispose();

    /// <summary>Captures one decode step per bucket and window, after running each once on the capture stream (see <see cref="GreedyDecoder"/>).</summary>
    private CudaGraph[][] CaptureGraphs()
    {
        using var inference = inference_mode();
        var stream = CudaGraph.SideStream();
        var count = WindowCount;
        CudaGraph.RunOnSideStream(
            () =>
            {
                TorchScriptExecutor.UsePlainInterpreter();
                foreach (var bucket in _views)
                {
                    for (var k = 0; k < count; k++)
                    {
                        _position.zero_();
                        Step(bucket, k);
                    }
                }
            },
            stream);

        var graphs = new List<CudaGraph[]>(_views.Length);
        var all = new List<CudaGraph>();
        try
        {
            foreach (var bucket in _views)
            {
                var perWindow = new CudaGraph[count];
                for (var k = 0; k < count; k++)
                {
                    var window = k;
                    perWindow[k] = CudaGraph.Capture(() => Step(bucket, window), stream);
                    all.Add(perWindow[k]);
                }

                graphs.Add(perWindow);
            }
        }
        catch
        {
            foreach (var g in all)
            {
                g.Dispose();
            }

            throw;
        }

        torch.cuda.synchronize();
        return [.. graphs];
    }
}
