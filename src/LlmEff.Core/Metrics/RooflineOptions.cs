using LlmEff.Core.Analysis;

namespace LlmEff.Core.Metrics;

/// <summary>Settings of <see cref="RooflineEstimator"/>.</summary>
public sealed record RooflineOptions
{
    /// <summary>The ideal roofline: efficiencies 1 (peak), fp16, default knots. A lower bound on runtime until calibrated.</summary>
    public static RooflineOptions Default { get; } = new();

    /// <summary>The prompt sizes at which <c>PE</c> is evaluated (knots of the returned model) unless given: the paper's profiling grid.</summary>
    public static IReadOnlyList<int> DefaultPromptKnots { get; } = [1, 16, 32, 64, 128, 256, 512, 1024, 1536, 1920];

    /// <summary>Fraction of peak FLOP/s reached in compute-bound passes, in (0, 1]. Default 1.</summary>
    public double ComputeEfficiency { get; init; } = 1.0;

    /// <summary>Fraction of peak bandwidth reached in memory-bound passes, in (0, 1]. Default 1.</summary>
    public double MemoryEfficiency { get; init; } = 1.0;

    /// <summary>Prompt sizes for the knots of <c>PE(p)</c>; null means <see cref="DefaultPromptKnots"/> (capped at the model's context).</summary>
    public IReadOnlyList<int>? PromptKnots { get; init; }

    /// <summary>
    /// Cache length at which the one-token pass that defines <c>g</c> is evaluated. Default 1,024 tokens, the middle of
    /// the paper's profiled prompt sizes; <c>g</c> is constant in the paper's model, so one representative length is used.
    /// </summary>
    public int GenerationContextTokens { get; init; } = 1024;

    /// <summary>Bytes per weight and per cache element. Default fp16.</summary>
    public InferencePrecision Precision { get; init; } = InferencePrecision.Fp16;

    /// <summary>Which FLOPs count. Default <see cref="FlopCountOptions.Default"/>.</summary>
    public FlopCountOptions Flops { get; init; } = FlopCountOptions.Default;

    /// <summary>Checks the fields; throws naming the offending one.</summary>
    /// <returns>This instance, for chaining.</returns>
    public RooflineOptions Validate()
    {
        Efficiency(ComputeEfficiency, nameof(ComputeEfficiency));
        Efficiency(MemoryEfficiency, nameof(MemoryEfficiency));
        ArgumentOutOfRangeException.ThrowIfNegative(GenerationContextTokens, nameof(GenerationContextTokens));
        ArgumentNullException.ThrowIfNull(Precision, nameof(Precision));
        ArgumentNullException.ThrowIfNull(Flops, nameof(Flops));
        Precision.Validate();
        if (PromptKnots is { } knots && (knots.Count == 0 || knots.Any(k => k < 1)))
        {
            throw new ArgumentException($"PromptKnots must list at least one prompt size, each at least 1 token; got [{string.Join(", ", knots)}].", nameof(PromptKnots));
        }

        return this;
    }

    private static void Efficiency(double value, string name)
    {
        // Above 1 is allowed up to a margin only because calibration against a faster-than-datasheet run should say so, not fail.
        if (!double.IsFinite(value) || value <= 0 || value > 2)
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} is a fraction of peak, in (0, 1] (values up to 2 are tolerated from calibration); a value outside that means the accelerator or model is wrong.");
        }
    }
}
