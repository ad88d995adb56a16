using TorchSharp;

namespace LlmEff.Profiling.Torch;

/// <summary>Conversions of <see cref="ModelPrecision"/> to TorchSharp types and sizes.</summary>
public static class ModelPrecisionExtensions
{
    /// <summary>The TorchSharp scalar type of <paramref name="precision"/>.</summary>
    public static torch.ScalarType ToScalarType(this ModelPrecision precision) => precision switch
    {
        ModelPrecision.BFloat16 => torch.ScalarType.BFloat16,
        ModelPrecision.Float16 => torch.ScalarType.Float16,
        ModelPrecision.Float32 => torch.ScalarType.Float32,
        _ => throw new ArgumentOutOfRangeException(nameof(precision), precision, "Unknown ModelPrecision; use BFloat16, Float16 or Float32."),
    };

    /// <summary>Bytes per element of <paramref name="precision"/>: 2 for bf16/fp16, 4 for fp32.</summary>
    public static int BytesPerElement(this ModelPrecision precision) => precision switch
    {
        ModelPrecision.BFloat16 or ModelPrecision.Float16 => 2,
        ModelPrecision.Float32 => 4,
        _ => throw new ArgumentOutOfRangeException(nameof(precision), precision, "Unknown ModelPrecision; use BFloat16, Float16 or Float32."),
    };

    /// <summary>Short name used in provenance strings: <c>bf16</c>, <c>fp16</c> or <c>fp32</c>.</summary>
    public static string ShortName(this ModelPrecision precision) => precision switch
    {
        ModelPrecision.BFloat16 => "bf16",
        ModelPrecision.Float16 => "fp16",
        ModelPrecision.Float32 => "fp32",
        _ => throw new ArgumentOutOfRangeException(nameof(precision), precision, "Unknown ModelPrecision; use BFloat16, Float16 or Float32."),
    };
}
