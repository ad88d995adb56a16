namespace LlmEff.Core.Architecture;

/// <summary>
/// A decoder-only Transformer's shape: the <c>h</c>, <c>l</c>, <c>n</c> of the paper's Table 1 plus the knobs modern
/// decoders need (grouped-query attention, gated FFN, norm, positions, tied embeddings, mixture of experts).
/// Everything that needs no weights (FLOPs, bytes, memory, GPU count, the random-weight engine) is derived from it.
/// </summary>
/// <param name="Name">Model name, e.g. <c>EleutherAI/GPT-J</c>.</param>
/// <param name="HiddenSize"><c>h</c>.</param>
/// <param name="Layers"><c>l</c>.</param>
/// <param name="Heads"><c>n</c>, attention (query) heads.</param>
/// <param name="VocabularySize">Vocabulary size (the embedding and output projection rows).</param>
/// <param name="MaxContextTokens">Maximum context length in tokens.</param>
public sealed record TransformerArchitecture(
    string Name,
    int HiddenSize,
    int Layers,
    int Heads,
    int VocabularySize,
    int MaxContextTokens)
{
    private readonly int? _ffnHiddenSize;
    private readonly int? _keyValueHeads;

    /// <summary>FFN inner width <c>f</c>; defaults to <c>4h</c> (the paper's assumption).</summary>
    public int FfnHiddenSize
    {
        get => _ffnHiddenSize ?? (4 * HiddenSize);
        init => _ffnHiddenSize = value;
    }

    /// <summary>Key/value heads: equal to <see cref="Heads"/> for multi-head attention, 1 for MQA, in between for GQA.</summary>
    public int KeyValueHeads
    {
        get => _keyValueHeads ?? Heads;
        init => _keyValueHeads = value;
    }

    /// <summary>Standard or gated (SwiGLU) FFN. Default standard.</summary>
    public FfnKind Ffn { get; init; } = FfnKind.Standard;

    /// <summary>LayerNorm or RMSNorm. Default LayerNorm.</summary>
    public NormKind Norm { get; init; } = NormKind.LayerNorm;

    /// <summary>How positions are encoded. Default learned absolute embeddings (GPT-3).</summary>
    public PositionalScheme Positions { get; init; } = PositionalScheme.Learned;

    /// <summary>True when the output projection shares the input embedding's weights.</summary>
    public bool TiedEmbeddings { get; init; }

    /// <summary>True when the linear layers carry biases (GPT-style); false for Llama-style.</summary>
    public bool LinearBiases { get; init; } = true;

    /// <summary>FFN experts per layer (mixture of experts); 1 for a dense model.</summary>
    public int Experts { get; init; } = 1;

    /// <summary>Experts each token is routed to; 1 for a dense model.</summary>
    public int ExpertsPerToken { get; init; } = 1;

    /// <summary>The parameter total the model's authors published (for checking <see cref="ParameterCount"/>), or null when unknown.</summary>
    public long? PublishedParameterCount { get; init; }

    /// <summary>Where the shape came from (a paper table, a <c>config.json</c>), for provenance; null when not given.</summary>
    public string? Source { get; init; }

    /// <summary>Per-head dimension <c>h / n</c>.</summary>
    public int HeadDim => HiddenSize / Heads;

    /// <summary>True for a mixture-of-experts model.</summary>
    public bool IsMixtureOfExperts => Experts > 1;

    /// <summary>Width of the key (or value) projection, <c>KeyValueHeads × HeadDim</c>.</summary>
    public int KeyValueWidth => KeyValueHeads * HeadDim;

    /// <summary>Parameters of one FFN expert: two (standard) or three (gated) <c>h × f</c> matrices, plus biases.</summary>
    public long FfnParametersPerExpert
    {
        get
        {
            long h = HiddenSize, f = FfnHiddenSize;
            var matrices = Ffn == FfnKind.Gated ? 3 : 2;
            var biases = LinearBiases ? (Ffn == FfnKind.Gated ? 2 * f : f) + h : 0;
            return (matrices * h * f) + biases;
        }
    }

    /// <summary>Parameters of one layer's attention block: Q, K, V and output projections (plus biases).</summary>
    public long AttentionParametersPerLayer
    {
        get
        {
            long h = HiddenSize, kv = KeyValueWidth;
            var biases = LinearBiases ? h + (2 * kv) + h : 0;
            return (2 * h * h) + (2 * h * kv) + biases;
        }
    }

    /// <summary>Parameters of one norm layer (weight, plus bias for LayerNorm).</summary>
    public long NormParameters => Norm == NormKind.LayerNorm ? 2L * HiddenSize : HiddenSize;

    /// <summary>Parameters of one Transformer layer counting every expert.</summary>
    public long ParametersPerLayer => AttentionParametersPerLayer + (Experts * FfnParametersPerExpert) + (IsMixtureOfExperts ? (long)HiddenSize * Experts : 0) + (2 * NormParameters);

    /// <summary>Embedding parameters: token table, learned positions if any.</summary>
    public long EmbeddingParameters => ((long)VocabularySize * HiddenSize) + (Positions == PositionalScheme.Learned ? (long)MaxContextTokens * HiddenSize : 0);

    /// <summary>Output (vocabulary) projection parameters; 0 when tied to the embedding.</summary>
    public long OutputProjectionParameters => TiedEmbeddings ? 0 : (long)VocabularySize * HiddenSize;

    /// <summary>Total parameters (every expert), computed from the shape.</summary>
    public long ParameterCount => EmbeddingParameters + (Layers * ParametersPerLayer) + NormParameters + OutputProjectionParameters;

    /// <summary>Parameters one token passes through: for mixture-of-experts only <see cref="ExpertsPerToken"/> experts per layer.</summary>
    public long ActiveParameterCount => ParameterCount - ((long)Layers * (Experts - ExpertsPerToken) * FfnParametersPerExpert);

    /// <summary>KV-cache elements per token of context: keys and values of every layer, <c>2 · l · KeyValueWidth</c>.</summary>
    public long KvCacheElementsPerToken => 2L * Layers * KeyValueWidth;

    /// <summary>Checks the shape is consistent; throws with the offending value and the fix otherwise.</summary>
    /// <returns>This instance, for chaining.</returns>
    public TransformerArchitecture Validate()
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(Name);
        ArgumentOutOfRangeException.ThrowIfLessThan(HiddenSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(Layers, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(Heads, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(VocabularySize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxContextTokens, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(FfnHiddenSize, 1);
        if (HiddenSize % Heads != 0)
        {
            throw new ArgumentException($"{Name}: hidden size h = {HiddenSize} is not divisible by heads n = {Heads}; h must be a multiple of n (head dimension h/n).", nameof(HiddenSize));
        }

        if (KeyValueHeads < 1 || Heads % KeyValueHeads != 0)
        {
            throw new ArgumentException($"{Name}: key/value heads = {KeyValueHeads} must be at least 1 and divide the {Heads} query heads (MQA: 1, GQA: a divisor, MHA: {Heads}).", nameof(KeyValueHeads));
        }

        if (Experts < 1 || ExpertsPerToken < 1 || ExpertsPerToken > Experts)
        {
            throw new ArgumentException($"{Name}: experts per token = {ExpertsPerToken} must be between 1 and the {Experts} experts.", nameof(ExpertsPerToken));
        }

        return this;
    }
}
