using LlmEff.Core.Architecture;

namespace LlmEff.Profiling.Torch;

/// <summary>
/// The local sizes of a <see cref="ModelShard"/> of one architecture: what its weights, KV cache and forward pass hold.
/// Column-parallel projections (QKV, first FFN, vocabulary) keep a slice of their outputs; row-parallel ones (attention
/// output, second FFN) a slice of their inputs, with the bias on rank 0 only so the all-reduce adds it once.
/// </summary>
/// <param name="Shard">The shard these sizes belong to.</param>
/// <param name="HiddenSize"><c>h</c> (never split).</param>
/// <param name="HeadDim">Head dimension (never split).</param>
/// <param name="Heads">Local query heads, <c>n / N</c>.</param>
/// <param name="HeadStart">Global index of the first local query head.</param>
/// <param name="KeyValueHeads">Local key/value heads (1 when they are replicated).</param>
/// <param name="KeyValueHeadStart">Global index of the first local key/value head.</param>
/// <param name="FfnHiddenSize">Local FFN width, <c>f / N</c>.</param>
/// <param name="FfnStart">Global index of the first local FFN column.</param>
/// <param name="VocabularyRows">Local vocabulary rows, <c>⌈V / N⌉</c> (padded).</param>
/// <param name="VocabularyStart">Global id of the first local vocabulary row.</param>
/// <param name="VocabularyValid">Local rows that are real tokens (the rest is padding).</param>
/// <param name="Layers">Layers in this pipeline stage.</param>
/// <param name="FirstLayer">Global index of the stage's first layer.</param>
/// <param name="HasEmbedding">True for the first stage (token and position embeddings).</param>
/// <param name="HasHead">True for the last stage (final norm and vocabulary projection).</param>
/// <param name="HasRowParallelBias">True on tensor-parallel rank 0, which adds the row-parallel biases.</param>
public sealed record ShardShape(
    ModelShard Shard,
    int HiddenSize,
    int HeadDim,
    int Heads,
    int HeadStart,
    int KeyValueHeads,
    int KeyValueHeadStart,
    int FfnHiddenSize,
    int FfnStart,
    int VocabularyRows,
    int VocabularyStart,
    int VocabularyValid,
    int Layers,
    int FirstLayer,
    bool HasEmbedding,
    bool HasHead,
    bool HasRowParallelBias)
{
    /// <summary>Local query heads per local key/value head.</summary>
    public int Groups => Heads / KeyValueHeads;

    /// <summary>Width of the local attention output, <c>(n / N) · headDim</c>: the row-parallel output projection's input.</summary>
    public int AttentionWidth => Heads * HeadDim;

    /// <summary>
    /// Width the FFN weights are stored at under <see cref="DecoderOptions.AlignFfnWidth"/> (the default):
    /// <see cref="FfnHiddenSize"/> rounded up to a multiple of 8, the extra columns zero. cuBLAS reads a decode step's down projection at 1.9 TB/s when its rows are an odd number of elements (YaLM's
    /// 6,827 per rank) against 2.7 TB/s at 6,832 on an H100 (benchmarks/python/yalm_shard_profile.py); the zero columns
    /// leave every output unchanged.
    /// </summary>
    public int FfnStorageWidth => (FfnHiddenSize + 7) / 8 * 8;

    /// <summary>True for the whole model (degree 1, one stage).</summary>
    public bool IsFull => Shard.IsFull;

    /// <summary>
    /// Parameters this shard holds: its share of every split matrix plus the replicated norms (and position embeddings on
    /// the first stage). For the whole model it equals <see cref="TransformerArchitecture.ParameterCount"/>.
    /// </summary>
    public long ParameterCount(TransformerArchitecture architecture)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        long h = HiddenSize, qkv = (long)(Heads + (2 * KeyValueHeads)) * HeadDim, f = FfnHiddenSize;
        var bias = architecture.LinearBiases;
        var rowBias = bias && HasRowParallelBias ? h : 0;
        var up = architecture.Ffn == FfnKind.Gated ? 2 * f : f;
        var perLayer = (architecture.NormsPerLayer * architecture.NormParameters)
            + (qkv * h) + (bias ? qkv : 0)
            + (h * AttentionWidth) + rowBias
            + FfnParameters(architecture, up, f, bias, rowBias);
        var tied = architecture.TiedEmbeddings;
        long total = Layers * perLayer;
        if (HasEmbedding || (tied && HasHead))
        {
            total += (long)VocabularyRows * h;
        }

        if (HasEmbedding && architecture.Positions == PositionalScheme.Learned)
        {
            total += (long)architecture.MaxContextTokens * h;
        }

        if (HasHead)
        {
            total += architecture.NormParameters + (tied ? 0 : (long)VocabularyRows * h);
        }

        return total;
    }

    // A dense FFN, or a mixture's E split experts (no biases), replicated router, split shared experts and replicated shared gate.
    private long FfnParameters(TransformerArchitecture a, long up, long f, bool bias, long rowBias)
    {
        long h = HiddenSize;
        if (!a.IsMixtureOfExperts)
        {
            return (up * h) + (bias ? up : 0) + (h * f) + rowBias;
        }

        long shared = MixtureOfExpertsFeedForward.SharedLocalWidth(a, this);
        var gatedFactor = a.Ffn == FfnKind.Gated ? 3 : 2;
        return (a.Experts * gatedFactor * h * f) + a.RouterParametersPerLayer + (gatedFactor * h * shared) + (a.SharedExpertGate ? h : 0);
    }

    /// <summary>Key/value cache elements per token for this shard: keys and values of its own heads in its own layers.</summary>
    public long KvCacheElementsPerToken => 2L * Layers * KeyValueHeads * HeadDim;
}
