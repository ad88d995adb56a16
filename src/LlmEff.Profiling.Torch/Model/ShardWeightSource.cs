using LlmEff.Core.Architecture;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LlmEff.Profiling.Torch;

/// <summary>
/// Megatron's partition of a whole model's weights: column-parallel matrices (QKV by heads, the first FFN projection by
/// columns, embedding and vocabulary projection by vocabulary rows) keep rows of the <c>[out, in]</c> weight; row-parallel
/// ones (attention output, second FFN projection) keep columns. Norms and position embeddings are replicated.
/// </summary>
internal sealed class ShardWeightSource : WeightSource
{
    private readonly Dictionary<string, Tensor> _full;
    private readonly TransformerArchitecture _arch;
    private readonly ShardShape _shape;
    private readonly Device _modelDevice;

    public ShardWeightSource(DecoderTransformer model, ShardShape shape, Device device)
    {
        _full = model.named_parameters().ToDictionary(p => p.name, p => (Tensor)p.parameter, StringComparer.Ordinal);
        _arch = model.Architecture;
        _shape = shape;
        _modelDevice = model.Device;
        Device = device;
        DType = model.Precision.ToScalarType();
    }

    public override Device Device { get; }

    public override ScalarType DType { get; }

    public override Parameter Random(string name, params long[] shape)
    {
        if (name == "stage_input")
        {
            // Not a weight of the whole model: a later stage's input when it is run alone.
            return new Parameter(zeros(shape, DType, Device), requires_grad: false);
        }

        var full = Lookup(name);
        var leaf = name[(name.LastIndexOf('.') + 1)..];
        var slice = leaf switch
        {
            "token_embedding" or "output_projection" => VocabularyRows(full),
            "position_embedding" or "out_bias" or "down_bias" => full,
            "qkv_weight" or "qkv_bias" => full.index_select(0, QkvRows()),
            "out_weight" => full.index_select(1, AttentionColumns()),
            "up_weight" or "up_bias" => full.index_select(0, UpRows()),
            "down_weight" => full.narrow(1, _shape.FfnStart, _shape.FfnHiddenSize),
            _ => MixtureOfExpertsFeedForward.ShardSlice(leaf, full, _arch, _shape) ?? throw new InvalidOperationException($"No partition rule for parameter '{name}'."),
        };
        return Checked(name, slice, shape);
    }

    public override Parameter Norm(string name, long size, double value) => Checked(name, Lookup(name), [size]);

    private Tensor Lookup(string name) =>
        _full.TryGetValue(name, out var t) ? t : throw new InvalidOperationException($"The whole model has no parameter '{name}'.");

    private Parameter Checked(string name, Tensor slice, long[] shape)
    {
        if (!slice.shape.SequenceEqual(shape))
        {
            throw new InvalidOperationException($"Shard slice of '{name}' is [{string.Join(", ", slice.shape)}], expected [{string.Join(", ", shape)}].");
        }

        return new Parameter(slice.to(Device).clone().contiguous(), requires_grad: false);
    }

    private Tensor VocabularyRows(Tensor full)
    {
        var rows = full.narrow(0, _shape.VocabularyStart, _shape.VocabularyValid);
        var pad = _shape.VocabularyRows - _shape.VocabularyValid;
        return pad == 0 ? rows : cat([rows, zeros([pad, full.shape[1]], full.dtype, full.device)], 0);
    }

    private Tensor QkvRows()
    {
        int hd = _shape.HeadDim, heads = _arch.Heads, kv = _arch.KeyValueHeads;
        var ids = new List<long>();
        for (var h = 0; h < _shape.Heads; h++)
        {
            AddHead(ids, _shape.HeadStart + h, hd);
        }

        for (var h = 0; h < _shape.KeyValueHeads; h++)
        {
            AddHead(ids, heads + _shape.KeyValueHeadStart + h, hd);
        }

        for (var h = 0; h < _shape.KeyValueHeads; h++)
        {
            AddHead(ids, heads + kv + _shape.KeyValueHeadStart + h, hd);
        }

        return Indices(ids);
    }

    // The attention output enters the output projection in (group, kv head, dim) order (see DecoderScript); this
    // shard's heads are its key/value heads' groups, so the columns are gathered in the same order locally.
    private Tensor AttentionColumns()
    {
        int hd = _shape.HeadDim, kv = _arch.KeyValueHeads, groups = _arch.Heads / kv;
        var ids = new List<long>();
        if (_shape.KeyValueHeads == 1 && kv < _shape.Shard.TensorParallelDegree)
        {
            // Replicated key/value head: the local heads are a contiguous run of one head's groups.
            var firstGroup = _shape.HeadStart - (_shape.KeyValueHeadStart * groups);
            for (var g = firstGroup; g < firstGroup + _shape.Heads; g++)
            {
                AddHead(ids, (g * kv) + _shape.KeyValueHeadStart, hd);
            }
        }
        else
        {
            for (var g = 0; g < groups; g++)
            {
                for (var k = _shape.KeyValueHeadStart; k < _shape.KeyValueHeadStart + _shape.KeyValueHeads; k++)
                {
                    AddHead(ids, (g * kv) + k, hd);
                }
            }
        }

        return Indices(ids);
    }

    private Tensor UpRows()
    {
        int f = _arch.FfnHiddenSize, start = _shape.FfnStart, local = _shape.FfnHiddenSize;
        var ids = Enumerable.Range(start, local).Select(i => (long)i);
        if (_arch.Ffn == FfnKind.Gated)
        {
            // Gate rows then up rows, each sliced alike, so the local [gate; up] layout matches the whole model's.
            ids = ids.Concat(Enumerable.Range(f + start, local).Select(i => (long)i));
        }

        return Indices(ids.ToList());
    }

    // The rows (or columns) of one head in a [heads · headDim, ...] weight.
    private static void AddHead(List<long> ids, long head, int headDim)
    {
        for (var d = 0; d < headDim; d++)
        {
            ids.Add((head * headDim) + d);
        }
    }

    // Index tensors live with the whole model's weights, which index_select requires.
    private Tensor Indices(List<long> ids) => tensor(ids.ToArray(), ScalarType.Int64, _modelDevice);
}
