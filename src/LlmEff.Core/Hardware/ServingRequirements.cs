using LlmEff.Core.Analysis;

namespace LlmEff.Core.Hardware;

/// <summary>What a deployment must hold in accelerator memory, and which parallel layouts are allowed.</summary>
public sealed record ServingRequirements
{
    /// <summary>Defaults: the model's full context, batch 1, fp16, 10% reserve, tensor parallelism up to 8 (one server), pipeline stages allowed.</summary>
    public static ServingRequirements Default { get; } = new();

    /// <summary>Tokens of KV cache per sequence; null means the architecture's maximum context.</summary>
    public int? ContextTokens { get; init; }

    /// <summary>Sequences served at once, each holding <see cref="ContextTokens"/> of cache. Default 1 (the paper's setting).</summary>
    public int BatchSize { get; init; } = 1;

    /// <summary>Bytes per weight and per cache element. Default fp16, as the paper's Megatron runs.</summary>
    public InferencePrecision Precision { get; init; } = InferencePrecision.Fp16;

    /// <summary>
    /// Fraction of each accelerator's memory kept free for activations, workspace, the runtime's context and
    /// fragmentation. Default 0.10.
    /// </summary>
    public double ReserveFraction { get; init; } = 0.10;

    /// <summary>
    /// Largest tensor-parallel degree (accelerators sharing each layer); beyond it, pipeline stages are added. Default 8:
    /// tensor parallelism stays inside one 8-GPU NVLink server, as the paper does (§3.2).
    /// </summary>
    public int MaxTensorParallelDegree { get; init; } = 8;

    /// <summary>Only powers of two as tensor-parallel degrees (what the paper's Megatron deployments used). Default false.</summary>
    public bool PowerOfTwoTensorParallel { get; init; }

    /// <summary>Allow pipeline stages (each a divisor of the layer count) when tensor parallelism alone cannot fit the model. Default true.</summary>
    public bool AllowPipelineParallel { get; init; } = true;

    /// <summary>Checks the fields; throws naming the offending one.</summary>
    /// <returns>This instance, for chaining.</returns>
    public ServingRequirements Validate()
    {
        if (ContextTokens is { } c)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(c, nameof(ContextTokens));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(BatchSize, 1, nameof(BatchSize));
        ArgumentNullException.ThrowIfNull(Precision, nameof(Precision));
        Precision.Validate();
        if (!double.IsFinite(ReserveFraction) || ReserveFraction < 0 || ReserveFraction >= 1)
        {
            throw new ArgumentOutOfRangeException(nameof(ReserveFraction), ReserveFraction, "The reserve is a fraction of accelerator memory in [0, 1), e.g. 0.1.");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(MaxTensorParallelDegree, 1, nameof(MaxTensorParallelDegree));
        return this;
    }
}
