namespace LlmEff.Profiling.Torch;

/// <summary>How a random-weight <see cref="DecoderTransformer"/> is instantiated. Defaults suit runtime profiling.</summary>
public sealed record DecoderOptions
{
    /// <summary>Shared default instance.</summary>
    public static DecoderOptions Default { get; } = new();

    /// <summary>Weight, activation and KV-cache precision. Default <see cref="ModelPrecision.BFloat16"/>.</summary>
    public ModelPrecision Precision { get; init; } = ModelPrecision.BFloat16;

    /// <summary>
    /// Seed of the weight initialisation; the same seed, shape, precision and device give the same weights. Default 0.
    /// Runtime does not depend on the weights (paper §3.2), so the seed only matters for reproducible tokens.
    /// </summary>
    public long Seed { get; init; }

    /// <summary>Standard deviation of the normal weight initialisation. Default 0.02 (GPT-2's).</summary>
    public double InitStandardDeviation { get; init; } = 0.02;

    /// <summary>Epsilon of LayerNorm/RMSNorm. Default 1e-5.</summary>
    public double NormEpsilon { get; init; } = 1e-5;

    /// <summary>Base of the rotary embedding frequencies. Default 10000 (GPT-J, Llama 2).</summary>
    public double RotaryBase { get; init; } = 10000.0;

    /// <summary>
    /// Store an FFN whose width (per shard) is not a multiple of 8 padded with zero columns to the next multiple
    /// (<see cref="ShardShape.FfnStorageWidth"/>): the same outputs, and aligned rows that cuBLAS reads about
    /// 1.4× faster in a decode step (YaLM's 6,827 per rank of 4). Default true; false keeps the exact width, to measure
    /// what the alignment is worth.
    /// </summary>
    public bool AlignFfnWidth { get; init; } = true;

    /// <summary>Checks the options; throws naming the bad value otherwise.</summary>
    /// <returns>This instance.</returns>
    public DecoderOptions Validate()
    {
        if (!Enum.IsDefined(Precision))
        {
            throw new ArgumentOutOfRangeException(nameof(Precision), Precision, "Unknown ModelPrecision; use BFloat16, Float16 or Float32.");
        }

        if (!double.IsFinite(InitStandardDeviation) || InitStandardDeviation <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(InitStandardDeviation), InitStandardDeviation, "InitStandardDeviation must be a finite positive number (default 0.02).");
        }

        if (!double.IsFinite(NormEpsilon) || NormEpsilon <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(NormEpsilon), NormEpsilon, "NormEpsilon must be a finite positive number (default 1e-5).");
        }

        if (!double.IsFinite(RotaryBase) || RotaryBase <= 1)
        {
            throw new ArgumentOutOfRangeException(nameof(RotaryBase), RotaryBase, "RotaryBase must be finite and greater than 1 (default 10000).");
        }

        return this;
    }
}
