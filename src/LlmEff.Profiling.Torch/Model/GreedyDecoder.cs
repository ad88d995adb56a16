using TorchSharp;
using LlmEff.Profiling.Torch.Profiling;
using static TorchSharp.torch;

namespace LlmEff.Profiling.Torch.Model;

/// <summary>
/// Greedy autoregressive generation with a preallocated KV cache: the prompt is encoded in one forward pass, then exactly
/// <c>o - 1</c> single-token steps follow, with no early stop, so its runtime is the paper's <c>t(p, o)</c>. The forward
/// passes run as TorchScript (see <see cref="DecoderScript"/>); tokens stay on the device, so no step synchronises the host.
/// </summary>
public sealed class GreedyDecoder : IDisposable
{
    private readonly jit.CompilationUnit _script;
    private readonly Tensor[] _layerTensors;
    private readonly Tensor[] _globals;
    private readonly Tensor[] _cache;
    private readonly Tensor[] _keys;
    private readonly Tensor[] _values;

    /// <summary>Compiles the model's forward passes and allocates a KV cache of <paramref name="capacityTokens"/> positions.</summary>
    /// <param name="model">The model; it must outlive this decoder.</param>
    /// <param name="capacityTokens">Largest <c>p + o - 1</c> to be generated; at most the architecture's context length.</param>
    public GreedyDecoder(DecoderTransformer model, int capacityTokens)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacityTokens, 1);
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
        Source = DecoderScript.Build(a, s, model.Options.NormEpsilon);
        _script = jit.compile(Source);
    }

    /// <summary>The model being run.</summary>
    public DecoderTransformer Model { get; }

    /// <summary>KV-cache capacity in token positions.</summary>
    public int CapacityTokens { get; }

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
        _ = p;
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

    private int CheckPrompt(Tensor promptTokens, int outputTokens)
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
