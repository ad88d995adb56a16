using LlmEff.Core.Architecture;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LlmEff.Profiling.Torch;

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
    private readonly Parameter? token_embedding;
    private readonly Parameter? position_embedding;
    private readonly ModuleList<DecoderBlock> layers;
    private readonly Parameter? final_norm_weight;
    private readonly Parameter? final_norm_bias;
    private readonly Parameter? output_projection;
#pragma warning restore IDE0044, CA1823

    private readonly PositionTables _positions;
    private readonly Tensor? _stageInput;
    private Tensor? _headView;

    private DecoderTransformer(TransformerArchitecture architecture, ShardShape shape, DecoderOptions options, Device device, WeightSource weights)
        : base(architecture.Name)
    {
        Architecture = architecture;
        Shape = shape;
        Options = options;
        Device = device;
        var dtype = options.Precision.ToScalarType();
        long h = architecture.HiddenSize, v = shape.VocabularyRows;
        var tied = architecture.TiedEmbeddings;
        token_embedding = shape.HasEmbedding || (tied && shape.HasHead) ? weights.Random(nameof(token_embedding), v, h) : null;
        position_embedding = architecture.Positions == PositionalScheme.Learned && shape.HasEmbedding ? weights.Random(nameof(position_embedding), architecture.MaxContextTokens, h) : null;
        layers = new ModuleList<DecoderBlock>(Enumerable.Range(0, shape.Layers)
            .Select(i => new DecoderBlock($"layer{i}", architecture, shape, shape.FirstLayer + i, weights, options.NormEpsilon, options.AlignFfnWidth, options.Seed)).ToArray());
        final_norm_weight = shape.HasHead ? weights.Norm(nameof(final_norm_weight), h, 1.0) : null;
        final_norm_bias = shape.HasHead && architecture.Norm == NormKind.LayerNorm ? weights.Norm(nameof(final_norm_bias), h, 0.0) : null;
        output_projection = shape.HasHead && !tied ? weights.Random(nameof(output_projection), v, h) : null;
        _positions = PositionTables.Create(architecture, architecture.MaxContextTokens, dtype, device, options.RotaryBase, shape.HeadStart, shape.Heads);
        // A later pipeline stage receives hidden states from the stage before; profiling it alone reads them from here.
        _stageInput = shape.HasEmbedding ? null : weights.Random("stage_input", architecture.MaxContextTokens, h).detach();
        RegisterComponents();
    }

    /// <summary>The architecture this model was built from.</summary>
    public TransformerArchitecture Architecture { get; }

    /// <summary>The local sizes of the shard this model holds (the whole model's unless built by <see cref="CreateShard(TransformerArchitecture, ModelShard, DecoderOptions?, Device?)"/>).</summary>
    public ShardShape Shape { get; }

    /// <summary>The options it was built with (precision, seed, initialisation).</summary>
    public DecoderOptions Options { get; }

    /// <summary>The device holding the weights.</summary>
    public Device Device { get; }

    /// <summary>Weight and activation precision.</summary>
    public ModelPrecision Precision => Options.Precision;

    /// <summary>Parameters actually allocated (tied output projections counted once); for the whole model, equals <see cref="TransformerArchitecture.ParameterCount"/>.</summary>
    public long AllocatedParameterCount => parameters().Sum(p => p.numel());

    internal PositionTables Positions => _positions;

    /// <summary>The layers, in order.</summary>
    internal IList<DecoderBlock> Blocks => layers;

    /// <summary>The final norm's weight (stages with the head), or null.</summary>
    internal Tensor? FinalNormWeight => final_norm_weight;

    /// <summary>The final norm's bias (LayerNorm stages with the head), or null.</summary>
    internal Tensor? FinalNormBias => final_norm_bias;

    /// <summary>
    /// Builds the model with random weights created directly on <paramref name="device"/> (CPU when null). On the
    /// <c>meta</c> device no memory is allocated, which checks the shapes of models of any size.
    /// </summary>
    /// <exception cref="ArgumentException">The architecture is inconsistent.</exception>
    /// <exception cref="NotSupportedException">A mixture of experts whose experts carry biases (not built by this engine).</exception>
    public static DecoderTransformer Create(TransformerArchitecture architecture, DecoderOptions? options = null, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        architecture.Validate();
        return CreateShard(architecture, ModelShard.Full, options, device);
    }

    /// <summary>
    /// Builds one GPU's shard of <paramref name="architecture"/> (Megatron tensor/pipeline parallelism) with random weights
    /// created directly on <paramref name="device"/>: the model a rank of a multi-GPU deployment holds and runs.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The shard does not fit the architecture; the message names the valid degrees.</exception>
    /// <exception cref="NotSupportedException">A mixture of experts whose experts carry biases.</exception>
    public static DecoderTransformer CreateShard(TransformerArchitecture architecture, ModelShard shard, DecoderOptions? options = null, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        ArgumentNullException.ThrowIfNull(shard);
        architecture.Validate();
        MixtureOfExpertsSupport.Check(architecture);
        var shape = shard.Resolve(architecture);
        options = (options ?? DecoderOptions.Default).Validate();
        device ??= CPU;
        TorchBackend.Ensure(device);
        return new DecoderTransformer(architecture, shape, options, device, new WeightFactory(device, options.Precision.ToScalarType(), options));
    }

    /// <summary>
    /// Cuts <paramref name="shard"/> out of a whole model's weights (copies, on <paramref name="device"/> or the model's
    /// device), so the shards of one model together compute exactly what it computes: the tensor-parallel correctness check.
    /// </summary>
    public static DecoderTransformer CreateShard(DecoderTransformer model, ModelShard shard, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(shard);
        if (!model.Shape.IsFull)
        {
            throw new ArgumentException("Shards are cut from a whole model; this one is already a shard.", nameof(model));
        }

        var shape = shard.Resolve(model.Architecture);
        device ??= model.Device;
        using var noGrad = no_grad();
        return new DecoderTransformer(model.Architecture, shape, model.Options, device, new ShardWeightSource(model, shape, device));
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

        if (!Shape.IsFull)
        {
            throw new InvalidOperationException("The reference forward pass runs the whole model only; run a shard through its decoder.");
        }

        var t = tokens.shape[1];
        var x = token_embedding!.index_select(0, tokens.flatten()).unsqueeze(0);
        if (position_embedding is not null)
        {
            x += position_embedding.narrow(0, 0, t).unsqueeze(0);
        }

        foreach (var layer in layers)
        {
            x = layer.Forward(x, _positions);
        }

        x = ApplyNorm(Architecture.Norm, x, final_norm_weight!, final_norm_bias, Options.NormEpsilon);
        return nn.functional.linear(x, output_projection ?? token_embedding!);
    }

    /// <summary>
    /// Model-level tensors in the order <see cref="DecoderScript"/> indexes them: embedding, head, final norm (weight, bias),
    /// positions, stage input, then the position tables; what a shard does not hold is skipped.
    /// </summary>
    internal List<Tensor> ScriptGlobals()
    {
        var list = new List<Tensor>();
        if (Shape.HasEmbedding)
        {
            list.Add(token_embedding!);
        }

        if (Shape.HasHead)
        {
            // One transposed view, disposed with the model (see DecoderBlock.ScriptTensors).
            _headView ??= (output_projection ?? token_embedding!).t();
            list.Add(_headView);
            list.Add(final_norm_weight!);
            if (final_norm_bias is not null)
            {
                list.Add(final_norm_bias);
            }
        }

        if (position_embedding is not null)
        {
            list.Add(position_embedding);
        }

        if (_stageInput is not null)
        {
            list.Add(_stageInput);
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
            _stageInput?.Dispose();
            _headView?.Dispose();
        }

        base.Dispose(disposing);
    }
}
