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
    private readonly int? _headDim;
    private readonly int? _expertFfnHiddenSize;
    private readonly int? _sharedExpertFfnHiddenSize;

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

    /// <summary>
    /// FFN inner width of one routed expert; defaults to <see cref="FfnHiddenSize"/>. Fine-grained mixtures (Qwen-MoE,
    /// Qwen3-MoE) route to many narrow experts whose width differs from the dense FFN width in their config.
    /// </summary>
    public int ExpertFfnHiddenSize
    {
        get => _expertFfnHiddenSize ?? FfnHiddenSize;
        init => _expertFfnHiddenSize = value;
    }

    /// <summary>Experts every token passes through besides its routed ones (Qwen-MoE, DeepSeek); 0 when none.</summary>
    public int SharedExperts { get; init; }

    /// <summary>FFN inner width of one shared expert; defaults to <see cref="ExpertFfnHiddenSize"/>.</summary>
    public int SharedExpertFfnHiddenSize
    {
        get => _sharedExpertFfnHiddenSize ?? ExpertFfnHiddenSize;
        init => _sharedExpertFfnHiddenSize = value;
    }

    /// <summary>True when a sigmoid gate (one <c>h</c>-wide vector per layer) scales the shared experts' output (Qwen-MoE).</summary>
    public bool SharedExpertGate { get; init; }

    /// <summary>
    /// Sliding-window attention (Mistral): each token attends to at most this many positions, itself included, so the KV
    /// cache holds at most this many tokens and attention FLOPs and bytes stop growing past it. Null for full attention.
    /// </summary>
    public int? SlidingWindowTokens { get; init; }

    /// <summary>
    /// How attention and FFN meet the residual stream. Default <see cref="BlockLayout.Sequential"/>. In the parallel
    /// layouts (GPT-NeoX; GPT-J with one shared norm) both branches read the layer's input and join the residual together,
    /// so under tensor parallelism their partial sums are added and all-reduced once per layer.
    /// </summary>
    public BlockLayout Block { get; init; } = BlockLayout.Sequential;

    /// <summary>The parameter total the model's authors published (for checking <see cref="ParameterCount"/>), or null when unknown.</summary>
    public long? PublishedParameterCount { get; init; }

    /// <summary>Where the shape came from (a paper table, a <c>config.json</c>), for provenance; null when not given.</summary>
    public string? Source { get; init; }

    /// <summary>Per-head dimension; defaults to <c>h / n</c>. Set it where the config's <c>head_dim</c> differs (Qwen3: 128 at h = 2048, 32 heads).</summary>
    public int HeadDim
    {
        get => _headDim ?? (HiddenSize / Heads);
        init => _headDim = value;
    }

    /// <summary>Width of the query projection and the attention output, <c>Heads × HeadDim</c> (<c>h</c> unless <see cref="HeadDim"/> is set otherwise).</summary>
    public int AttentionWidth => Heads * HeadDim;

    /// <summary>True for a mixture-of-experts model.</summary>
    public bool IsMixtureOfExperts => Experts > 1;

    /// <summary>Width of the key (or value) projection, <c>KeyValueHeads × HeadDim</c>.</summary>
    public int KeyValueWidth => KeyValueHeads * HeadDim;

    /// <summary>FFN width of the routed FFN: <see cref="ExpertFfnHiddenSize"/> for a mixture, <see cref="FfnHiddenSize"/> for a dense model.</summary>
    public int RoutedFfnHiddenSize => IsMixtureOfExperts ? ExpertFfnHiddenSize : FfnHiddenSize;

    /// <summary>Parameters of one routed FFN expert (the dense FFN for a dense model): two (standard) or three (gated) <c>h × f</c> matrices, plus biases.</summary>
    public long FfnParametersPerExpert => FfnParameters(RoutedFfnHiddenSize);

    /// <summary>Parameters of every shared expert of one layer, with the shared gate when there is one; 0 without shared experts.</summary>
    public long SharedExpertParametersPerLayer => SharedExperts == 0 ? 0 : (SharedExperts * FfnParameters(SharedExpertFfnHiddenSize)) + (SharedExpertGate ? HiddenSize : 0);

    /// <summary>Parameters of one layer's router, <c>h × E</c> (no bias); 0 for a dense model.</summary>
    public long RouterParametersPerLayer => IsMixtureOfExperts ? (long)HiddenSize * Experts : 0;

    /// <summary>Parameters of one layer's attention block: Q, K, V and output projections (plus biases).</summary>
    public long AttentionParametersPerLayer
    {
        get
        {
            long h = HiddenSize, kv = KeyValueWidth, q = AttentionWidth;
            var biases = LinearBiases ? q + (2 * kv) + h : 0;
            return (2 * h * q) + (2 * h * kv) + biases;
        }
    }

    /// <summary>Parameters of one norm layer (weight, plus bias for LayerNorm).</summary>
    public long NormParameters => Norm == NormKind.LayerNorm ? 2L * HiddenSize : HiddenSize;

    /// <summary>Norms per layer: 2, or 1 where both branches share one (<see cref="BlockLayout.ParallelSharedNorm"/>).</summary>
    public int NormsPerLayer => Block == BlockLayout.ParallelSharedNorm ? 1 : 2;

    /// <summary>Parameters of one Transformer layer counting every expert.</summary>
    public long ParametersPerLayer => AttentionParametersPerLayer + (Experts * FfnParametersPerExpert) + SharedExpertParametersPerLayer + RouterParametersPerLayer + (NormsPerLayer * NormParameters);

    /// <summary>Embedding parameters: token table, learned positions if any.</summary>
    public long EmbeddingParameters => ((long)VocabularySize * HiddenSize) + (Positions == PositionalScheme.Learned ? (long)MaxContextTokens * HiddenSize : 0);

    /// <summary>Output (vocabulary) projection parameters; 0 when tied to the embedding.</summary>
    public long OutputProjectionParameters => TiedEmbeddings ? 0 : (long)VocabularySize * HiddenSize;

    /// <summary>Total parameters (every expert), computed from the shape.</summary>
    public long ParameterCount => EmbeddingParameters + (Layers * ParametersPerLayer) + NormParameters + OutputProjectionParameters;

    /// <summary>Parameters one token passes through: for mixture-of-experts only <see cref="ExpertsPerToken"/> routed experts per layer (plus the shared experts and the router).</summary>
    public long ActiveParameterCount => ParameterCount - ((long)Layers * (Experts - ExpertsPerToken) * FfnParametersPerExpert);

    /// <summary>KV-cache elements per token of context: keys and values of every layer, <c>2 · l · KeyValueWidth</c>.</summary>
    public long KvCacheElementsPerToken => 2L * Layers * KeyValueWidth;

    /// <summary>Tokens of a <paramref name="contextTokens"/>-token context the KV cache holds: all of them, or at most <see cref="SlidingWindowTokens"/>.</summary>
    /// <param name="contextTokens">Tokens of context, 0 or more.</param>
    public long KvCacheTokens(long contextTokens)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(contextTokens);
        return SlidingWindowTokens is { } w ? Math.Min(contextTokens, w) : contextTokens;
    }

    private long FfnParameters(int width)
    {
        long h = HiddenSize, f = width;
        var matrices = Ffn == FfnKind.Gated ? 3 : 2;
        var biases = LinearBiases ? (Ffn == FfnKind.Gated ? 2 * f : f) + h : 0;
        return (matrices * h * f) + biases;
    }

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
        if (_headDim is { } headDim && headDim < 1)
        {
            throw new ArgumentException($"{Name}: head dimension = {headDim} must be at least 1 (or leave it unset for h / n).", nameof(HeadDim));
        }

        if (_headDim is null && HiddenSize % Heads != 0)
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

        if (ExpertFfnHiddenSize < 1 || SharedExpertFfnHiddenSize < 1)
        {
            throw new ArgumentException($"{Name}: expert FFN widths (routed {ExpertFfnHiddenSize}, shared {SharedExpertFfnHiddenSize}) must be at least 1.", nameof(ExpertFfnHiddenSize));
        }

        if (SharedExperts < 0 || (SharedExperts > 0 && !IsMixtureOfExperts))
        {
            throw new ArgumentException($"{Name}: shared experts = {SharedExperts} needs a mixture of experts (Experts > 1) and must not be negative; set Experts, or leave SharedExperts at 0.", nameof(SharedExperts));
        }

        if (SharedExpertGate && SharedExperts == 0)
        {
            throw new ArgumentException($"{Name}: a shared-expert gate needs shared experts; set SharedExperts or SharedExpertGate = false.", nameof(SharedExpertGate));
        }

        if (SlidingWindowTokens is < 1)
        {
            throw new ArgumentException($"{Name}: sliding window = {SlidingWindowTokens} tokens must be at least 1 (null for full attention).", nameof(SlidingWindowTokens));
        }

        return this;
    }
}
