using TorchSharp;
using static TorchSharp.torch;

namespace LlmEff.Profiling.Torch;

/// <summary>
/// Runs the <c>N</c> tensor-parallel shards of one model together, Megatron style: every rank embeds its vocabulary rows
/// and the partial embeddings are all-reduced; in every layer each rank computes its heads' attention and its FFN columns,
/// and the row-parallel partial sums are all-reduced (twice per layer; once, of both halves' sum, in a parallel block) and added to every rank's residual stream; the
/// greedy choice is made from the ranks' vocabulary logits. With <see cref="HostAllReduce"/> the ranks can live on the
/// CPU (the correctness check); with the NCCL communicator on one GPU each.
/// </summary>
/// <remarks>
/// With NCCL on CUDA devices, each rank's decode step is captured as CUDA graphs (one per window of
/// <see cref="GreedyDecoder.DefaultWindowTokens"/> context positions, as the one-GPU decoder does), its all-reduces
/// recorded inside on the rank's capture stream and its fused kernels compiled for its device; a step is then one replay
/// per rank, with no host dispatch per layer. The prompt is encoded eagerly (its shapes vary). Where graphs cannot be
/// used, <see cref="EagerReason"/> says why and every step is issued eagerly from this thread.
/// </remarks>
public sealed partial class TensorParallelDecoder : IDisposable
{
    private readonly GreedyDecoder[] _ranks;
    private readonly ITensorAllReduce _allReduce;
    private readonly int[] _devices;

    // The static step's buffers per rank: attention output, and the [N, 2] table of every rank's best (logit, id).
    private readonly Tensor[] _attended;
    private readonly Tensor[] _best;
    private readonly DecodeKernels?[] _kernels;
    private readonly CudaGraph[][]? _graphs;

    /// <summary>Compiles every rank's script and allocates its cache; with NCCL on GPUs, captures the decode step (<see cref="CudaGraphMode.Auto"/>).</summary>
    /// <param name="shards">Ranks 0..N−1 of one single-stage model, in rank order; they must outlive this decoder.</param>
    /// <param name="allReduce">The collective across the ranks' devices (one tensor per rank); the caller keeps ownership and disposes it.</param>
    /// <param name="capacityTokens">Largest <c>p + o − 1</c> to be generated.</param>
    public TensorParallelDecoder(IReadOnlyList<DecoderTransformer> shards, ITensorAllReduce allReduce, int capacityTokens)
        : this(shards, allReduce, capacityTokens, CudaGraphMode.Auto)
    {
    }

    /// <summary>Compiles every rank's script, allocates its cache and, as <paramref name="cudaGraphs"/> says, captures the decode step.</summary>
    /// <param name="shards">Ranks 0..N−1 of one single-stage model, in rank order; they must outlive this decoder.</param>
    /// <param name="allReduce">The collective across the ranks' devices (one tensor per rank); the caller keeps ownership and disposes it.</param>
    /// <param name="capacityTokens">Largest <c>p + o − 1</c> to be generated.</param>
    /// <param name="cudaGraphs">
    /// Whether to replay decode steps as CUDA graphs (NCCL on CUDA devices only). Capture must not overlap other CUDA work
    /// in the process, as for <see cref="GreedyDecoder"/>.
    /// </param>
    /// <exception cref="NotSupportedException"><paramref name="cudaGraphs"/> is <see cref="CudaGraphMode.Required"/> and graphs cannot be used; the message says why.</exception>
    public TensorParallelDecoder(IReadOnlyList<DecoderTransformer> shards, ITensorAllReduce allReduce, int capacityTokens, CudaGraphMode cudaGraphs)
        : this(shards, allReduce, capacityTokens, cudaGraphs, GreedyDecoder.DefaultWindowTokens)
    {
    }

    /// <summary>As the public constructor, with the replay window settable (small windows let CPU tests cross window boundaries).</summary>
    internal TensorParallelDecoder(IReadOnlyList<DecoderTransformer> shards, ITensorAllReduce allReduce, int capacityTokens, CudaGraphMode cudaGraphs, int windowTokens)
    {
        ArgumentNullException.ThrowIfNull(shards);
        ArgumentNullException.ThrowIfNull(allReduce);
        ArgumentOutOfRangeException.ThrowIfLessThan(windowTokens, 1);
        if (!Enum.IsDefined(cudaGraphs))
        {
            throw new ArgumentOutOfRangeException(nameof(cudaGraphs), cudaGraphs, "Use CudaGraphMode.Auto, Off or Required.");
        }

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
        // CUDA ranks by device index ("cuda" alone is the current device, 0); -1 for the CPU.
        _devices = shards.Select(s => s.Device.type == DeviceType.CUDA ? Math.Max(0, (int)s.Device.index) : -1).ToArray();

        // Each rank's own decoder runs its pieces between the all-reduces; its one-GPU graphs would go unused.
        _ranks = shards.Select(s => new GreedyDecoder(s, capacityTokens, CudaGraphMode.Off, windowTokens)).ToArray();
        _attended = _ranks.Select(r => r.NewAttentionBuffer()).ToArray();
        _best = shards.Select(s => zeros([n, 2], ScalarType.Float32, s.Device)).ToArray();
        _kernels = new DecodeKernels?[n];
        EagerReason = cudaGraphs == CudaGraphMode.Off ? "CudaGraphMode.Off was asked for." : GraphsUnavailableReason(shards, allReduce);
        if (EagerReason is null)
        {
            try
            {
                for (var r = 0; r < n; r++)
                {
                    _kernels[r] = GreedyDecoder.FusedKernelsFor(shards[r], _devices[r]);
                }

                _graphs = CaptureGraphs();
            }
            catch
            {
                Dispose();
                throw;
            }
        }
        else if (cudaGraphs == CudaGraphMode.Required)
        {
            var reason = EagerReason;
            Dispose();
            throw new NotSupportedException($"CudaGraphMode.Required: {reason} Use CudaGraphMode.Auto to fall back to eager steps.");
        }
    }

    /// <summary>Tensor-parallel degree.</summary>
    public int Ranks => _ranks.Length;

    /// <summary>Largest <c>p + o − 1</c> the ranks' KV caches hold.</summary>
    public int CapacityTokens => _ranks[0].CapacityTokens;

    /// <summary>The ranks' shards, rank 0 first.</summary>
    internal IReadOnlyList<DecoderTransformer> Shards => _ranks.Select(r => r.Model).ToArray();

    /// <summary>True when decode steps replay every rank's captured CUDA graph (all-reduces inside).</summary>
    public bool UsesCudaGraphs => _graphs is not null;

    /// <summary>Why decode steps are issued eagerly, one host call per layer piece and all-reduce; null when they replay graphs.</summary>
    public string? EagerReason { get; }

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
        var p = _ranks[0].CheckPrompt(promptTokens, outputTokens);
        if (_graphs is not null)
        {
            return GenerateStatic(promptTokens, p, outputTokens, window =>
            {
                // Each replay goes to its rank's device and current stream; the ranks' graphs run together and meet in NCCL.
                foreach (var graph in _graphs[window])
                {
                    graph.Replay();
                }
            });
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
        foreach (var graph in _graphs?.SelectMany(g => g) ?? [])
        {
            graph.Dispose();
        }

        foreach (var t in (_attended ?? []).Concat(_best ?? []))
        {
            t?.Dispose();
        }

        foreach (var rank in _ranks ?? [])
        {
            rank?.Dispose();
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
        var parallel = _ranks[0].Model.Architecture.Block != Core.Architecture.BlockLayout.Sequential;
        var parts = new Tensor[n];
        for (var i = 0; i < layers; i++)
        {
            for (var r = 0; r < n; r++)
            {
                parts[r] = prefill
                    ? _ranks[r].InvokeWithModel("attn_prefill_partial", x[r], i)
                    : _ranks[r].InvokeWithModel("attn_decode_partial", x[r], i, position);
            }

            if (parallel)
            {
                // The parallel block: the FFN half reads the same layer input, and both halves' partial sums go into one
                // all-reduce.
                for (var r = 0; r < n; r++)
                {
                    parts[r].add_(_ranks[r].Invoke("ffn_partial", x[r], i, _ranks[r].LayerTensors));
                }

                Reduce(x, parts);
                continue;
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
