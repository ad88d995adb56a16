using static TorchSharp.torch;

namespace LlmEff.Profiling.Torch;

/// <summary>
/// Runs the <c>N</c> tensor-parallel shards of one model together, Megatron style: every rank embeds its vocabulary rows
/// and the partial embeddings are all-reduced; in every layer each rank computes its heads' attention and its FFN columns,
/// and the row-parallel partial sums are all-reduced (twice per layer) and added to every rank's residual stream; the
/// ranks' vocabulary logits are gathered for the greedy choice. With <see cref="HostAllReduce"/> the ranks can live on
/// the CPU (the correctness check); with the NCCL communicator on one GPU each.
/// </summary>
public sealed class TensorParallelDecoder : IDisposable
{
    private readonly GreedyDecoder[] _ranks;
    private readonly ITensorAllReduce _allReduce;

    /// <summary>Compiles every rank's script and allocates its cache.</summary>
    /// <param name="shards">Ranks 0..N−1 of one single-stage model, in rank order; they must outlive this decoder.</param>
    /// <param name="allReduce">The collective across the ranks' devices (one tensor per rank); the caller keeps ownership and disposes it.</param>
    /// <param name="capacityTokens">Largest <c>p + o − 1</c> to be generated.</param>
    public TensorParallelDecoder(IReadOnlyList<DecoderTransformer> shards, ITensorAllReduce allReduce, int capacityTokens)
    {
        ArgumentNullException.ThrowIfNull(shards);
        ArgumentNullException.ThrowIfNull(allReduce);
        if (shards.Count == 0)
        {
            throw new ArgumentException("Pass the N shards of the model, rank 0 first.", nameof(shards));
        }

        if (shards[0].Architecture.IsMixtureOfExperts)
        {
            throw new NotSupportedException($"{shards[0].Architecture.Name}: the driver of real ranks runs dense models; profile a mixture's rank shard alone (its collectives are modelled).");
        }

        var n = shards.Count;
        for (var r = 0; r < n; r++)
        {
            var shard = shards[r].Shape.Shard;
            if (shard.TensorParallelDegree != n || shard.TensorParallelRank != r || shard.PipelineStages != 1)
            {
                throw new ArgumentException(
                    $"Shard {r} is rank {shard.TensorParallelRank} of {shard.TensorParallelDegree} (stages {shard.PipelineStages}); pass ranks 0..{n - 1} of one {n}-way single-stage model in rank order.",
                    nameof(shards));
            }

            if (shards[r].Architecture != shards[0].Architecture)
            {
                throw new ArgumentException($"Shard {r} is of {shards[r].Architecture.Name}, shard 0 of {shards[0].Architecture.Name}; all shards must be of one model.", nameof(shards));
            }
        }

        if (allReduce.Ranks != n)
        {
            throw new ArgumentException($"The all-reduce spans {allReduce.Ranks} ranks but there are {n} shards; create it for {n} ranks.", nameof(allReduce));
        }

        _allReduce = allReduce;
        // The driver calls per-layer functions between all-reduces, so whole-step graphs would go unused.
        _ranks = shards.Select(s => new GreedyDecoder(s, capacityTokens, CudaGraphMode.Off)).ToArray();
    }

    /// <summary>Tensor-parallel degree.</summary>
    public int Ranks => _ranks.Length;

    /// <summary>Largest <c>p + o − 1</c> the ranks' KV caches hold.</summary>
    public int CapacityTokens => _ranks[0].CapacityTokens;

    /// <summary>The ranks' shards, rank 0 first.</summary>
    internal IReadOnlyList<DecoderTransformer> Shards => _ranks.Select(r => r.Model).ToArray();

    /// <summary>What carries the all-reduces, for provenance.</summary>
    internal string AllReduceName => _allReduce switch
    {
        NcclCommunicator => FormattableString.Invariant($"NCCL {NcclCommunicator.Version}"),
        HostAllReduce => "a host all-reduce",
        _ => _allReduce.GetType().Name,
    };

    /// <summary>
    /// Encodes <paramref name="promptTokens"/> <c>[1, p]</c> on every rank from position 0; returns the last position's
    /// logits over the whole vocabulary, <c>[1, 1, V]</c>, on rank 0's device.
    /// </summary>
    public Tensor PrefillLogits(Tensor promptTokens)
    {
        GreedyDecoder.CheckPromptShape(promptTokens);
        return Forward(promptTokens, position: 0, prefill: true);
    }

    /// <summary>One cached step for <paramref name="token"/> <c>[1, 1]</c> at <paramref name="position"/>; logits <c>[1, 1, V]</c>.</summary>
    public Tensor DecodeLogits(Tensor token, int position)
    {
        ArgumentNullException.ThrowIfNull(token);
        ArgumentOutOfRangeException.ThrowIfNegative(position);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(position, _ranks[0].CapacityTokens);
        return Forward(token, position, prefill: false);
    }

    /// <summary>Greedy generation of exactly <paramref name="outputTokens"/> tokens; returns their ids <c>[1, o]</c> on rank 0's device.</summary>
    public Tensor Generate(Tensor promptTokens, int outputTokens)
    {
        var p = GreedyDecoder.CheckPromptShape(promptTokens);
        ArgumentOutOfRangeException.ThrowIfLessThan(outputTokens, 1);
        if (p + outputTokens - 1 > _ranks[0].CapacityTokens)
        {
            throw new ArgumentOutOfRangeException(nameof(outputTokens), outputTokens, $"p + o - 1 = {p + outputTokens - 1} exceeds the KV cache capacity of {_ranks[0].CapacityTokens} tokens; create the decoder with a larger capacity.");
        }

        var device = _ranks[0].Model.Device;
        var output = empty([1, outputTokens], ScalarType.Int64, device);
        using (var scope = NewDisposeScope())
        {
            var token = PrefillLogits(promptTokens).argmax(-1).view(1, 1);
            output.narrow(1, 0, 1).copy_(token);
            for (var i = 1; i < outputTokens; i++)
            {
                token = DecodeLogits(token, p + i - 1).argmax(-1).view(1, 1);
                output.narrow(1, i, 1).copy_(token);
            }
        }

        return output;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var rank in _ranks)
        {
            rank.Dispose();
        }
    }

    private Tensor Forward(Tensor tokens, int position, bool prefill)
    {
        using var inference = inference_mode();
        TorchScriptExecutor.UsePlainInterpreter();
        using var scope = NewDisposeScope();
        var n = _ranks.Length;
        var x = new Tensor[n];
        for (var r = 0; r < n; r++)
        {
            x[r] = _ranks[r].Invoke("embed_partial", tokens.to(_ranks[r].Model.Device), position, _ranks[r].Globals);
        }

        _allReduce.SumInPlace(x);
        var layers = _ranks[0].Model.Shape.Layers;
        var parts = new Tensor[n];
        for (var i = 0; i < layers; i++)
        {
            for (var r = 0; r < n; r++)
            {
                parts[r] = prefill
                    ? _ranks[r].InvokeWithModel("attn_prefill_partial", x[r], i)
                    : _ranks[r].InvokeWithModel("attn_decode_partial", x[r], i, position);
            }

            Reduce(x, parts);
            for (var r = 0; r < n; r++)
            {
                parts[r] = _ranks[r].Invoke("ffn_partial", x[r], i, _ranks[r].LayerTensors);
            }

            Reduce(x, parts);
        }

        // The vocabulary-parallel head: each rank's logits for its rows, gathered in rank order.
        var device = _ranks[0].Model.Device;
        var logits = _ranks.Select((rank, r) => rank.Invoke("head_logits", x[r], rank.Globals).to(device)).ToArray();
        return cat(logits, 1).unsqueeze(0).MoveToOuterDisposeScope();
    }

    private void Reduce(Tensor[] x, Tensor[] parts)
    {
        _allReduce.SumInPlace(parts);
        for (var r = 0; r < x.Length; r++)
        {
            x[r].add_(parts[r]);
        }
    }
}
