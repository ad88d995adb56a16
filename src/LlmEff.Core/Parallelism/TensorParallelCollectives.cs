using LlmEff.Core.Architecture;
using LlmEff.Core.Hardware;

namespace LlmEff.Core.Parallelism;

/// <summary>
/// The collectives one Megatron-style tensor-parallel rank performs in a forward pass over <c>s</c> tokens: two
/// all-reduces of the <c>s × h</c> activations per layer (after attention and after the FFN; one, of their sum, in the
/// parallel layouts of <see cref="TransformerArchitecture.Block"/>), one after the vocabulary-parallel embedding
/// (first stage) and an all-gather of the last token's logits (last stage).
/// </summary>
/// <param name="Architecture">The model.</param>
/// <param name="Layers">Layers this rank's stage holds.</param>
/// <param name="TensorParallel">Tensor-parallel degree N.</param>
/// <param name="Link">The link between the N ranks.</param>
/// <param name="ActivationBytes">Bytes per activation element (2 for bf16/fp16).</param>
public sealed record TensorParallelCollectives(TransformerArchitecture Architecture, int Layers, int TensorParallel, Interconnect Link, double ActivationBytes = 2)
{
    /// <summary>True when the stage holds the embedding (adds one all-reduce per pass). Default true.</summary>
    public bool IncludesEmbedding { get; init; } = true;

    /// <summary>True when the stage holds the vocabulary projection (adds a logits all-gather per pass). Default true.</summary>
    public bool IncludesOutputProjection { get; init; } = true;

    /// <summary>All-reduces per layer: 2 (after attention and after the FFN), or 1 for a parallel block (<see cref="TransformerArchitecture.Block"/>).</summary>
    public int AllReducesPerLayer => Architecture.Block == BlockLayout.Sequential ? 2 : 1;

    /// <summary>Bytes per logit gathered for the next-token choice (fp32 logits: 4).</summary>
    public double LogitBytes { get; init; } = 4;

    /// <summary>Seconds of collectives in one forward pass over <paramref name="tokens"/> tokens (the prompt, or 1 when decoding).</summary>
    public double ForwardSeconds(int tokens) => ForwardSeconds(tokens, 1);

    /// <summary>
    /// Seconds of collectives in one forward pass of a static batch: <paramref name="tokens"/> tokens in all (<c>p·b</c> for a
    /// batched prefill, <c>b</c> for a batched decode step) and one logits row gathered for each of the
    /// <paramref name="sequences"/> queries.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="sequences"/> below 1 or above <paramref name="tokens"/>.</exception>
    public double ForwardSeconds(int tokens, int sequences)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(tokens, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(sequences, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(sequences, tokens);
        Validate();
        var activation = (double)tokens * Architecture.HiddenSize * ActivationBytes;
        var allReduces = (AllReducesPerLayer * Layers) + (IncludesEmbedding ? 1 : 0);
        var seconds = allReduces * CommunicationModel.AllReduceSeconds(activation, TensorParallel, Link);
        if (IncludesOutputProjection)
        {
            seconds += CommunicationModel.AllGatherSeconds((double)sequences * Architecture.VocabularySize * LogitBytes, TensorParallel, Link);
        }

        return seconds;
    }

    /// <summary>Checks the degree divides the heads and divides the key/value heads or is a multiple of them (as <see cref="AcceleratorPlanner.TensorParallelDegrees"/> requires), and that there is at least one layer.</summary>
    public TensorParallelCollectives Validate()
    {
        ArgumentNullException.ThrowIfNull(Architecture);
        ArgumentNullException.ThrowIfNull(Link);
        ArgumentOutOfRangeException.ThrowIfLessThan(Layers, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(TensorParallel, 1);
        if (!AcceleratorPlanner.SplitsHeadsEvenly(Architecture, TensorParallel))
        {
            var valid = Enumerable.Range(1, Architecture.Heads).Where(d => AcceleratorPlanner.SplitsHeadsEvenly(Architecture, d));
            throw new ArgumentException($"{Architecture.Name}: tensor-parallel degree {TensorParallel} does not split its {Architecture.Heads} heads and {Architecture.KeyValueHeads} key/value heads evenly (it must divide the heads, and divide the key/value heads or be a multiple of them); valid degrees are {string.Join(", ", valid)}.", nameof(TensorParallel));
        }

        if (!double.IsFinite(ActivationBytes) || ActivationBytes <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(ActivationBytes), ActivationBytes, "Bytes per element must be positive (2 for bf16).");
        }

        return this;
    }
}
