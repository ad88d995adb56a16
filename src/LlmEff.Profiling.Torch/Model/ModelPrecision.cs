namespace LlmEff.Profiling.Torch;

/// <summary>Numeric type of the random-weight decoder's weights, activations and KV cache (norms always compute in fp32).</summary>
public enum ModelPrecision
{
    /// <summary>bfloat16, 2 bytes per element; the default, as modern serving stacks use.</summary>
    BFloat16 = 0,

    /// <summary>IEEE half precision, 2 bytes per element (the paper's Megatron runs used fp16).</summary>
    Float16 = 1,

    /// <summary>IEEE single precision, 4 bytes per element; for CPU tests and reference numerics.</summary>
    Float32 = 2,
}
