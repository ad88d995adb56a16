using static TorchSharp.torch;

namespace LlmEff.Profiling.Torch;

/// <summary>
/// Greedy autoregressive generation with a preallocated KV cache: the prompt is encoded in one forward pass, then exactly
/// <c>o - 1</c> single-token steps follow, with no early stop, so its runtime is the paper's <c>t(p, o)</c>. The forward
/// passes run as TorchScript (see <see cref="DecoderScript"/>); tokens stay on the device, so no step synchronises the host.
/// On a CUDA GPU the decode step is also captured as CUDA graphs (one per window of <see cref="WindowTokens"/> context
/// positions) and each step is one graph replay, so the host no longer dispatches the step's ~25 ops per layer one by one.
/// </summary>
public sealed partial class GreedyDecoder : IDisposable
{
    private readonly jit.CompilationUnit _script;
    private readonly Tensor[] _layerTensors;
    private readonly Tensor[] _globals;
    private readonly Tensor[] _cache;
    private readonly Tensor[] _keys;
    private readonly Tensor[] _values;

    // Static-shape state of graph replays: the current token, its position, and every generated id by position.
    private readonly Tensor _token;
    private readonly Tensor _position;
    private readonly Tensor _history;
    private readonly CudaGraph[]? _graphs;
    private StepPieces? _pieces;

    // The fused-kernel step (stages with the head): its norm output and rotated queries, and the kernels (null: the
    // captured step is the all-TorchScript decode_static).
    private readonly Tensor? _normed;

    // A two-norm parallel block's second norm output (the FFN's input, taken from the layer's input beside the first).
    private readonly Tensor? _normed2;
    private readonly Tensor? _queries;
    private readonly DecodeKernels? _kernels;
    private readonly MixtureOfExpertsKernels? _expertKernels;

    // Where the decode attention kernel can serve the model, _attended holds attention's output between it and the output
    // projection: in steps that run the kernel (_attention, when asked for and compiled) and in the CPU reference run of
    // that sequence; captured steps without the kernel keep attention and projection in one script call.
    private readonly Tensor? _attended;
    private readonly DecodeAttention? _attention;
    private readonly Tensor? _attentionWorkspace;

    /// <summary>
    /// Compiles the model's forward passes and allocates a KV cache of <paramref name="capacityTokens"/> positions; on a
    /// CUDA GPU, also captures the decode step as CUDA graphs (<see cref="CudaGraphMode.Auto"/>).
    /// </summary>
    /// <param name="model">The model; it must outlive this decoder.</param>
    /// <param name="capacityTokens">Largest <c>p + o - 1</c> to be generated; at most the architecture's context length.</param>
    public GreedyDecoder(DecoderTransformer model, int capacityTokens)
        : this(model, capacityTokens, CudaGraphMode.Auto)
    {
    }

    /// <summary>Compiles the model's forward passes, allocates a KV cache of <paramref name="capacityTokens"/> positions and, as <paramref name="cudaGraphs"/> says, captures the decode step.</summary>
    /// <param name="model">The model; it must outlive this decoder.</param>
    /// <param name="capacityTokens">Largest <c>p + o - 1</c> to be generated; at most the architecture's context length.</param>
    /// <param name="cudaGraphs">
    /// Whether to replay decode steps as CUDA graphs. Capturing them (here, a few milliseconds per window) must not overlap
    /// other CUDA work in the process: while a capture is open, libtorch fails a device synchronize or a draw from the
    /// default CUDA generator made by any thread, and the failed capture leaves the process's CUDA state unusable.
    /// </param>
    /// <exception cref="NotSupportedException"><paramref name="cudaGraphs"/> is <see cref="CudaGraphMode.Required"/> and CUDA graphs are not available; the message says why.</exception>
    public GreedyDecoder(DecoderTransformer model, int capacityTokens, CudaGraphMode cudaGraphs)
        : this(model, capacityTokens, cudaGraphs, DefaultWindowTokens)
    {
    }

    /// <summary>As the public constructor, with the replay window size settable (small windows let CPU tests cross window boundaries).</summary>
    /// <remarks>
    /// <paramref name="attentionKernel"/> puts the split-KV decode attention kernel in the fused step (off by default:
    /// for a single query SDPA's decode kernel measured as fast or faster on an H100, and the kernel's fp32 softmax
    /// rounds bf16 outputs differently from SDPA's, so greedy tokens can differ from the eager decoder's).
    /// <paramref name="prefillGraphMaxTokens"/> is <see cref="PrefillGraphMaxTokens"/> where decode steps are captured (0:
    /// every prefill interpreted, as before prefill graphs).
    /// </remarks>
    internal GreedyDecoder(DecoderTransformer model, int capacityTokens, CudaGraphMode cudaGraphs, int windowTokens, bool fusedKernels = true, bool attentionKernel = false, int prefillGraphMaxTokens = DefaultPrefillGraphMaxTokens)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacityTokens, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(windowTokens, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(prefillGraphMaxTokens);
        if (!Enum.IsDefined(cudaGraphs))
        {
            throw new ArgumentOutOfRangeException(nameof(cudaGraphs), cudaGraphs, "Use CudaGraphMode.Auto, Off or Required.");
        }

        if (capacityTokens > model.Architecture.MaxContextTokens)
        {
            throw new ArgumentOutOfRangeException(nameof(capacityTokens), capacityTokens, $"{model.Architecture.Name} has a context of {model.Architecture.MaxContextTokens} tokens; ask for at most that many.");
        }

        Model = model;
        CapacityTokens = capacityTokens;
        var a = model.Architecture;
        var s = model.Shape;
        var dtype = model.Precision.ToScalarType();
        _cache = new Tensor[s.Layers];
        _keys = new Tensor[s.Layers];
        _values = new Tensor[s.Layers];
        for (var i = 0; i < s.Layers; i++)
        {
            // Layout [T, heads + 2·kvHeads, headDim] per layer: the fused QKV GEMM writes a token's query, key and value
            // straight into its row (no copy into the cache); attention reads [1, kvHeads, T, headDim] views made once here.
            // A shard caches only its own heads.
            _cache[i] = zeros([capacityTokens, s.Heads + (2L * s.KeyValueHeads), s.HeadDim], dtype, model.Device);
            _keys[i] = _cache[i].narrow(1, s.Heads, s.KeyValueHeads).permute(1, 0, 2).unsqueeze(0);
            _values[i] = _cache[i].narrow(1, s.Heads + s.KeyValueHeads, s.KeyValueHeads).permute(1, 0, 2).unsqueeze(0);
        }

        _layerTensors = model.ScriptLayerTensors().ToArray();
        _globals = model.ScriptGlobals().ToArray();
        Source = DecoderScript.Build(a, s, model.Options.NormEpsilon, model.Options.AlignFfnWidth);
        _script = jit.compile(Source);
        _token = zeros([1], ScalarType.Int64, model.Device);
        _position = zeros([1], ScalarType.Int64, model.Device);
        _history = zeros([capacityTokens + 1L], ScalarType.Int64, model.Device);
        WindowTokens = windowTokens;
        if (s.HasHead)
        {
            _normed = zeros([1, s.HiddenSize], dtype, model.Device);
            _normed2 = a.Block == Core.Architecture.BlockLayout.Parallel ? zeros([1, s.HiddenSize], dtype, model.Device) : null;
            _queries = zeros([s.Heads, s.HeadDim], dtype, model.Device);
            if (AttentionKernelUnsupportedReason(model, capacityTokens) is null)
            {
                _attended = zeros([1, (long)s.Heads * s.HeadDim], dtype, model.Device);
            }
        }

        if (cudaGraphs != CudaGraphMode.Off)
        {
            var unavailable = CudaGraph.UnavailableReasonFor(model.Device);
            if (unavailable is null)
            {
                _kernels = fusedKernels ? FusedKernelsFor(model) : null;
                _expertKernels = _kernels is null ? null : ExpertKernelsFor(model);
                _attention = _kernels is null || _attended is null || !attentionKernel ? null : DecodeAttention.For(dtype, s.HeadDim, s.Groups).Kernel;
                var chunks = _attention?.MostSplits(1, s.KeyValueHeads, WindowTokens, CapacityTokens) ?? 0;
                _attentionWorkspace = chunks > 1 ? zeros([DecodeAttention.WorkspaceFloats(1, s.Heads, s.HeadDim, chunks)], ScalarType.Float32, model.Device) : null;
                _graphs = CaptureGraphs();
                PrefillGraphMaxTokens = Math.Min(prefillGraphMaxTokens, capacityTokens);
            }
            else if (cudaGraphs == CudaGraphMode.Required)
            {
                Dispose();
                throw new NotSupportedException($"CudaGraphMode.Required: {unavailable} Use CudaGraphMode.Auto to fall back to eager decoding.");
            }
        }
    }

    /// <summary>Default <see cref="WindowTokens"/>: 128 positions, so a step attends to at most 127 masked positions more than it needs.</summary>
    public const int DefaultWindowTokens = 128;

    /// <summary>The model being run.</summary>
    public DecoderTransformer Model { get; }

    /// <summary>KV-cache capacity in token positions.</summary>
    public int CapacityTokens { get; }

    /// <summary>True when decode steps replay captured CUDA graphs.</summary>
    public bool UsesCudaGraphs => _graphs is not null;

    /// <summary>
    /// True when the captured step uses the two run-time compiled fused kernels (norm with the pending bias; rotary with
    /// the cache write) in place of the libtorch ops they replace: bf16 or fp32 stages with the head, where NVRTC is found.
    /// </summary>
    public bool UsesFusedKernels => _graphs is not null && _kernels is not null;

    /// <summary>
    /// True when the captured step's attention is the run-time compiled split-KV decode attention kernel (reading the
    /// cache up to the current position) instead of SDPA over the captured window: asked for, in fused steps of models
    /// without ALiBi or a sliding window shorter than the cache, with head sizes the kernel takes.
    /// </summary>
    internal bool UsesAttentionKernel => UsesFusedKernels && _attention is not null;

    /// <summary>The form of the decode attention kernel the captured steps run ("pipelined", "warp-tile"), or null without it.</summary>
    internal string? AttentionForms => UsesAttentionKernel ? _attention!.FormName : null;

    /// <summary>True when a mixture's captured step runs its routed experts with <see cref="MixtureOfExpertsKernels"/>.</summary>
    internal bool UsesExpertKernels => UsesFusedKernels && _expertKernels is not null;

    /// <summary>
    /// Context window of one captured decode step: a step at position <c>pos</c> runs the graph of window
    /// <c>min(W·(⌊pos / W⌋ + 1), capacity)</c>, attending to that many cache positions with the later ones masked out.
    /// </summary>
    public int WindowTokens { get; }

    /// <summary>The TorchScript source of the forward passes (for inspection).</summary>
    public string Source { get; }

    /// <summary>
    /// Cache size in bytes, <c>l · (h + 2 · kvWidth) · capacity · bytesPerElement</c>: the keys and values plus the row's
    /// query slot that the QKV GEMM writes in place (attention reads only the keys and values).
    /// </summary>
    public long KvCacheBytes => GpuMemoryRequirement.CacheBytes(Model.Shape, CapacityTokens, Model.Precision);

    /// <summary>
    /// Generates exactly <paramref name="outputTokens"/> tokens greedily after <paramref name="promptTokens"/> <c>[1, p]</c>
    /// (int64 ids on the model's device), all inside one TorchScript call; returns the ids <c>[1, o]</c>. Asynchronous on
    /// CUDA: synchronise before reading the clock.
    /// </summary>
    public Tensor Generate(Tensor promptTokens, int outputTokens)
    {
        var p = CheckPrompt(promptTokens, outputTokens);
        if (_graphs is not null)
        {
            return GenerateStatic(promptTokens, p, outputTokens, window => _graphs[window].Replay());
        }

        using var inference = inference_mode();
        TorchScriptExecutor.UsePlainInterpreter();
        var output = empty([1, outputTokens], ScalarType.Int64, Model.Device);
        using var result = (Tensor)_script.invoke("generate", promptTokens, outputTokens, output, _layerTensors, _globals, _cache, _keys, _values);
        return output;
    }

    /// <summary>
    /// Same tokens as <see cref="Generate"/>, but driven from C# one step at a time (one TorchScript call per token, each in
    /// its own dispose scope); kept to measure the host cost of a per-step loop.
    /// </summary>
    public Tensor GenerateStepwise(Tensor promptTokens, int outputTokens)
    {
        var p = CheckPrompt(promptTokens, outputTokens);
        using var inference = inference_mode();
        TorchScriptExecutor.UsePlainInterpreter();
        var output = empty([1, outputTokens], ScalarType.Int64, Model.Device);
        var token = PrefillLogits(promptTokens).argmax(-1);
        output.narrow(1, 0, 1).copy_(token);
        for (var i = 1; i < outputTokens; i++)
        {
            using var scope = NewDisposeScope();
            var next = (Tensor)_script.invoke("decode_greedy", token, p + i - 1, i, output, _layerTensors, _globals, _cache, _keys, _values);
            token.Dispose();
            token = next.MoveToOuterDisposeScope();
        }

        token.Dispose();
        return output;
    }

    /// <summary>Encodes <paramref name="promptTokens"/> <c>[1, p]</c> into the cache from position 0; returns the last position's logits <c>[1, 1, vocab]</c>.</summary>
    public Tensor PrefillLogits(Tensor promptTokens)
    {
        CheckPrompt(promptTokens, 1);
        using var inference = inference_mode();
        TorchScriptExecutor.UsePlainInterpreter();
        return (Tensor)_script.invoke("prefill_logits", promptTokens, _layerTensors, _globals, _cache, _keys, _values);
    }

    /// <summary>Runs one cached step for token <paramref name="token"/> <c>[1, 1]</c> at <paramref name="position"/>; returns logits <c>[1, 1, vocab]</c>.</summary>
    public Tensor DecodeLogits(Tensor token, int position)
    {
        ArgumentNullException.ThrowIfNull(token);
        ArgumentOutOfRangeException.ThrowIfNegative(position);
        if (position >= CapacityTokens)
        {
            throw new ArgumentOutOfRangeException(nameof(position), position, $"The KV cache holds {CapacityTokens} positions (0..{CapacityTokens - 1}); make the decoder larger.");
        }

        using var inference = inference_mode();
        TorchScriptExecutor.UsePlainInterpreter();
        return (Tensor)_script.invoke("decode_logits", token, position, _layerTensors, _globals, _cache, _keys, _values);
    }

    /// <summary>Calls a script function with <paramref name="leading"/> arguments followed by the model's tensors and cache.</summary>
    internal Tensor InvokeWithModel(string function, params object[] leading) =>
        (Tensor)_script.invoke(function, [.. leading, _layerTensors, _globals, _cache, _keys, _values]);

    /// <summary>Calls a script function with exactly <paramref name="arguments"/>.</summary>
    internal Tensor Invoke(string function, params object[] arguments) => (Tensor)_script.invoke(function, arguments);

    /// <summary>The layer tensors in script order (for per-layer calls).</summary>
    internal Tensor[] LayerTensors => _layerTensors;

    /// <summary>The model-level tensors in script order.</summary>
    internal Tensor[] Globals => _globals;

    /// <inheritdoc />
    public void Dispose()
    {
        DisposePrefillGraphs();
        foreach (var graph in _graphs ?? [])
        {
            graph.Dispose();
        }

        _normed?.Dispose();
        _normed2?.Dispose();
        _queries?.Dispose();
        _attended?.Dispose();
        _attentionWorkspace?.Dispose();
        _token?.Dispose();
        _position?.Dispose();
        _history?.Dispose();
        _script.Dispose();
        // The weight lists hold the model's own parameters (and views of them): the model disposes those.
        foreach (var t in _keys.Concat(_values).Concat(_cache))
        {
            t.Dispose();
        }
    }

    /// <summary>Checks that <paramref name="promptTokens"/> is <c>[1, p]</c> with <c>p ≥ 1</c>; returns <c>p</c>.</summary>
    internal static int CheckPromptShape(Tensor promptTokens)
    {
        ArgumentNullException.ThrowIfNull(promptTokens);
        if (promptTokens.dim() != 2 || promptTokens.shape[0] != 1 || promptTokens.shape[1] < 1)
        {
            throw new ArgumentException($"promptTokens must have shape [1, p] with p >= 1; got [{string.Join(", ", promptTokens.shape)}].", nameof(promptTokens));
        }

        return (int)promptTokens.shape[1];
    }

    /// <summary>Checks a <c>[1, p]</c> prompt and an output length against the cache; returns <c>p</c>.</summary>
    internal int CheckPrompt(Tensor promptTokens, int outputTokens)
    {
        var p = CheckPromptShape(promptTokens);
        ArgumentOutOfRangeException.ThrowIfLessThan(outputTokens, 1);
        if (p + outputTokens - 1 > CapacityTokens)
        {
            throw new ArgumentOutOfRangeException(nameof(outputTokens), outputTokens, $"p + o - 1 = {p + outputTokens - 1} exceeds the KV cache capacity of {CapacityTokens} tokens; create the decoder with a larger capacity.");
        }

        return p;
    }
}
