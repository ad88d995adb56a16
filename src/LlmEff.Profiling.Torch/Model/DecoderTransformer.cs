using LlmEff.Core.Architecture;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LlmEff.Profiling.Torch.Model;

/// <summary>
/// A decoder-only Transformer with random weights, shaped by a <see cref="TransformerArchitecture"/>: token embedding
/// (plus learned positions when the architecture has them), <c>l</c> pre-norm <see cref="DecoderBlock"/>s with the
/// architecture's norm, positional scheme, grouped-query attention and FFN kind, a final norm and the vocabulary projection.
/// Runtime does not depend on the weights (paper §3.2), so random weights give the idealized runtime of the real model.
/// <see cref="forward"/> is the plain full-sequence reference; <see cref="GreedyDecoder"/> is the fast KV-cached path.
/// </summary>
public sealed class DecoderTransformer : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE0044, CA1823 // Fields are registered as parameters/modules by RegisterComponents.
    private readonly Parameter token_embedding;
    private readonly Parameter? position_embedding;
    private readonly ModuleList<DecoderBlock> layers;
    private readonly Parameter final_norm_weight;
    private readonly Parameter? final_norm_bias;
    private readonly Parameter? output_projection;
#pragma warning restore IDE0044, CA1823

    private readonly PositionTables _positions;

    private DecoderTransformer(TransformerArchitecture architecture, DecoderOptions options, Device device)
        : base(architecture.Name)
    {
        Architecture = architecture;
        Options = options;
        Device = device;
        var dtype = options.Precision.ToScalarType();
        var weights = new WeightFactory(device, dtype, options);
        long h = architecture.HiddenSize, v = architecture.VocabularySize;
        token_embedding = weights.Random(v, h);
        position_embedding = architecture.Positions == PositionalScheme.Learned ? weights.Random(architecture.MaxContextTokens, h) : null;
        layers = new ModuleList<DecoderBlock>(Enumerable.Range(0, architecture.Layers)
            .Select(i => new DecoderBlock($"layer{i}", architecture, weights, options.NormEpsilon)).ToArray());
        final_norm_weight = weights.Norm(h, 1.0);
        final_norm_bias = architecture.Norm == NormKind.LayerNorm ? weights.Norm(h, 0.0) : null;
        output_projection = architecture.TiedEmbeddings ? null : weights.Random(v, h);
        _positions = PositionTables.Create(architecture, architecture.MaxContextTokens, dtype, device, options.RotaryBase);
        RegisterComponents();
    }

    /// <summary>The architecture this model was built from.</summary>
    public TransformerArchitecture Architecture { get; }

    /// <summary>The options it was built with (precision, seed, initialisation).</summary>
    public DecoderOptions Options { get; }

    /// <summary>The device holding the weights.</summary>
    public Device Device { get; }

    /// <summary>Weight and activation precision.</summary>
    public ModelPrecision Precision => Options.Precision;

    /// <summary>Parameters actually allocated (tied output projections counted once); equals <see cref="TransformerArchitecture.ParameterCount"/>.</summary>
    public long AllocatedParameterCount => parameters().Sum(p => p.numel());

    internal PositionTables Positions => _positions;

    /// <summary>
    /// Builds the model with random weights created directly on <paramref name="device"/> (CPU when null). On the
    /// <c>meta</c> device no memory is allocated, which checks the shapes of models of any size.
    /// </summary>
    /// <exception cref="ArgumentException">The architecture is inconsistent.</exception>
    /// <exception cref="NotSupportedException">A mixture-of-experts architecture (this engine builds dense models).</exception>
    public static DecoderTransformer Create(TransformerArchitecture architecture, DecoderOptions? options = null, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        architecture.Validate();
        if (architecture.IsMixtureOfExperts)
        {
            throw new NotSupportedException($"{architecture.Name}: mixture-of-experts ({architecture.Experts} experts) is not built by this engine; profile a dense architecture.");
        }

        options = (options ?? DecoderOptions.Default).Validate();
        device ??= CPU;
        TorchBackend.Ensure(device);
        return new DecoderTransformer(architecture, options, device);
    }

    /// <summary>
    /// Reference forward pass: logits <c>[1, T, vocab]</c> for token ids <paramref name="tokens"/> <c>[1, T]</c> from
    /// position 0, with explicit attention and no cache. Slow and allocation-heavy; used to check <see cref="GreedyDecoder"/>.
    /// </summary>
    public override Tensor forward(Tensor tokens)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        if (tokens.dim() != 2 || tokens.shape[0] != 1)
        {
            throw new ArgumentException($"tokens must have shape [1, T]; got [{string.Join(", ", tokens.shape)}].", nameof(tokens));
        }

        var t = tokens.shape[1];
        var x = token_embedding.index_select(0, tokens.flatten()).unsqueeze(0);
        if (position_embedding is not null)
        {
            x += position_embedding.narrow(0, 0, t).unsqueeze(0);
        }

        foreach (var layer in layers)
        {
            x = layer.Forward(x, _positions);
        }

        x = ApplyNorm(Architecture.Norm, x, final_norm_weight, final_norm_bias, Options.NormEpsilon);
        return nn.functional.linear(x, output_projection ?? token_embedding);
    }

    /// <summary>Model-level tensors in the order <see cref="DecoderScript"/> indexes them: embedding, head, final norm, positions, tables.</summary>
    internal List<Tensor> ScriptGlobals()
    {
        var list = new List<Tensor> { token_embedding, (output_projection ?? token_embedding).t(), final_norm_weight };
        if (final_norm_bias is not null)
        {
            list.Add(final_norm_bias);
        }

        if (position_embedding is not null)
        {
            list.Add(position_embedding);
        }

        list.AddRange(_positions.ScriptTensors());
        return list;
    }

    /// <summary>Every layer's tensors, concatenated in layer order with a fixed stride.</summary>
    internal List<Tensor> ScriptLayerTensors() => layers.SelectMany(l => l.ScriptTensors()).ToList();

    internal static Tensor ApplyNorm(NormKind kind, Tensor x, Tensor weight, Tensor? bias, double eps)
    {
        var x32 = x.to(ScalarType.Float32);
        var w32 = weight.to(ScalarType.Float32);
        var h = x.shape[^1];
        Tensor y = kind == NormKind.LayerNorm
            ? nn.functional.layer_norm(x32, [h], w32, bias?.to(ScalarType.Float32), eps)
            : x32 * (x32.pow(2).mean([-1L], keepdim: true) + eps).rsqrt() * w32;
        return y.to(x.dtype);
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _positions.Dispose();
        }

        base.Dispose(disposing);
    }
}
