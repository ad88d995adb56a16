namespace LlmEff.Core.Analysis;

/// <summary>Bytes per stored weight and per KV-cache element.</summary>
/// <param name="WeightBytesPerParameter">Bytes per weight, e.g. 2 for fp16/bf16, 0.5 for 4-bit.</param>
/// <param name="KvCacheBytesPerElement">Bytes per cached key or value element.</param>
public sealed record InferencePrecision(double WeightBytesPerParameter, double KvCacheBytesPerElement)
{
    /// <summary>fp16 weights and cache (the paper's Megatron setup).</summary>
    public static InferencePrecision Fp16 { get; } = new(2.0, 2.0);

    /// <summary>bf16 weights and cache.</summary>
    public static InferencePrecision Bf16 { get; } = new(2.0, 2.0);

    /// <summary>fp8 weights and cache.</summary>
    public static InferencePrecision Fp8 { get; } = new(1.0, 1.0);

    /// <summary>4-bit weights with an fp16 cache (GPTQ/AWQ-style serving).</summary>
    public static InferencePrecision Int4WeightsFp16Cache { get; } = new(0.5, 2.0);

    /// <summary>Checks both sizes are finite and positive.</summary>
    /// <returns>This instance, for chaining.</returns>
    public InferencePrecision Validate()
    {
        if (!double.IsFinite(WeightBytesPerParameter) || WeightBytesPerParameter <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(WeightBytesPerParameter), WeightBytesPerParameter, "Bytes per weight must be finite and positive, e.g. 2 for fp16.");
        }

        if (!double.IsFinite(KvCacheBytesPerElement) || KvCacheBytesPerElement <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(KvCacheBytesPerElement), KvCacheBytesPerElement, "Bytes per KV-cache element must be finite and positive, e.g. 2 for fp16.");
        }

        return this;
    }
}
