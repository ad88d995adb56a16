using LlmEff.Core.Architecture;

namespace LlmEff.Profiling.Torch;

/// <summary>
/// Which part of a model one GPU holds under Megatron-style parallelism: rank <see cref="TensorParallelRank"/> of a
/// <see cref="TensorParallelDegree"/>-way tensor-parallel group, in stage <see cref="PipelineStage"/> of
/// <see cref="PipelineStages"/> pipeline stages. <see cref="Full"/> is the whole model on one device.
/// </summary>
public sealed record ModelShard
{
    /// <summary>The whole model: degree 1, one stage.</summary>
    public static ModelShard Full { get; } = new();

    /// <summary>Tensor-parallel degree <c>N</c>; must divide the heads, and divide or be a multiple of the key/value heads. Default 1.</summary>
    public int TensorParallelDegree { get; init; } = 1;

    /// <summary>This shard's tensor-parallel rank, 0 to <c>N − 1</c>. Default 0 (the rank that adds the row-parallel biases).</summary>
    public int TensorParallelRank { get; init; }

    /// <summary>Pipeline stages <c>S</c> (layers split into contiguous runs). Default 1.</summary>
    public int PipelineStages { get; init; } = 1;

    /// <summary>This shard's stage, 0 to <c>S − 1</c>; the first holds the embedding, the last the final norm and vocabulary projection. Default 0.</summary>
    public int PipelineStage { get; init; }

    /// <summary>True for the whole model.</summary>
    public bool IsFull => TensorParallelDegree == 1 && PipelineStages == 1;

    /// <summary>A tensor-parallel rank of a single-stage model.</summary>
    public static ModelShard TensorParallel(int degree, int rank = 0) => new() { TensorParallelDegree = degree, TensorParallelRank = rank };

    /// <summary>
    /// Tensor-parallel degrees that fit <paramref name="architecture"/>: <c>N</c> divides the heads and the FFN width, and
    /// divides the key/value heads or is a multiple of them (key/value heads are then replicated, as Megatron does for
    /// GQA and MQA).
    /// </summary>
    public static IReadOnlyList<int> ValidTensorParallelDegrees(TransformerArchitecture architecture)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        return Enumerable.Range(1, architecture.Heads).Where(n => IsValidDegree(architecture, n)).ToArray();
    }

    /// <summary>Checks the shard against <paramref name="architecture"/> and works out its local sizes.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A degree, rank or stage that does not fit; the message names the valid values.</exception>
    public ShardShape Resolve(TransformerArchitecture architecture)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        int n = TensorParallelDegree, r = TensorParallelRank, s = PipelineStages, st = PipelineStage;
        if (n < 1 || !IsValidDegree(architecture, n))
        {
            throw new ArgumentOutOfRangeException(
                nameof(TensorParallelDegree), n,
                $"{architecture.Name}: a tensor-parallel degree must divide its {architecture.Heads} heads and {architecture.RoutedFfnHiddenSize} (expert) FFN width, and divide or be a multiple of its {architecture.KeyValueHeads} key/value heads; valid degrees are {string.Join(", ", ValidTensorParallelDegrees(architecture))}.");
        }

        if (r < 0 || r >= n)
        {
            throw new ArgumentOutOfRangeException(nameof(TensorParallelRank), r, $"The tensor-parallel rank must be in 0..{n - 1} for degree {n}.");
        }

        if (s < 1 || s > architecture.Layers)
        {
            throw new ArgumentOutOfRangeException(nameof(PipelineStages), s, $"{architecture.Name} has {architecture.Layers} layers; use 1 to {architecture.Layers} pipeline stages.");
        }

        if (st < 0 || st >= s)
        {
            throw new ArgumentOutOfRangeException(nameof(PipelineStage), st, $"The pipeline stage must be in 0..{s - 1} for {s} stages.");
        }

        // Layers split as evenly as possible, earlier stages taking the remainder (Megatron requires l % S == 0; this is its generalisation).
        var baseLayers = architecture.Layers / s;
        var extra = architecture.Layers % s;
        var layers = baseLayers + (st < extra ? 1 : 0);
        var firstLayer = (st * baseLayers) + Math.Min(st, extra);

        var heads = architecture.Heads / n;
        var kv = architecture.KeyValueHeads;
        int kvLocal, kvStart;
        if (kv % n == 0)
        {
            kvLocal = kv / n;
            kvStart = r * kvLocal;
        }
        else
        {
            // N is a multiple of the key/value heads: each rank keeps the one key/value head its query heads use.
            kvLocal = 1;
            kvStart = r / (n / kv);
        }

        // A mixture splits each routed expert (and the shared experts) across the ranks as the dense FFN is split.
        var f = architecture.RoutedFfnHiddenSize / n;
        // Vocabulary rows are padded to a multiple of N (Megatron pads the same way); padded rows are never selected.
        var vocabRows = (architecture.VocabularySize + n - 1) / n;
        var vocabStart = r * vocabRows;
        var vocabValid = Math.Max(0, Math.Min(vocabRows, architecture.VocabularySize - vocabStart));
        return new ShardShape(
            this,
            architecture.HiddenSize,
            architecture.HeadDim,
            heads,
            r * heads,
            kvLocal,
            kvStart,
            f,
            r * f,
            vocabRows,
            vocabStart,
            vocabValid,
            layers,
            firstLayer,
            st == 0,
            st == s - 1,
            r == 0);
    }

    private static bool IsValidDegree(TransformerArchitecture a, int n) =>
        a.Heads % n == 0 && a.RoutedFfnHiddenSize % n == 0 && (a.KeyValueHeads % n == 0 || n % a.KeyValueHeads == 0)
        && (a.SharedExperts == 0 || a.SharedExperts * a.SharedExpertFfnHiddenSize % n == 0);
}
