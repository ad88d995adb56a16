using LlmEff.Core;
using LlmEff.Core.Hardware;

namespace LlmEff.Profiling.Torch;

/// <summary>
/// How <see cref="ParallelProfiler"/> lays a model out over GPUs it emulates with one: the parallel degrees (by default
/// Core's minimum-accelerator layout for <see cref="Accelerator"/>) and the links whose modelled collectives are added.
/// </summary>
public sealed record ParallelProfileOptions
{
    /// <summary>Shared default instance.</summary>
    public static ParallelProfileOptions Default { get; } = new();

    /// <summary>
    /// The accelerator whose memory decides the default layout (<see cref="AcceleratorPlanner.MinimumAccelerators"/>) and
    /// whose usual intra-server link carries the tensor-parallel all-reduces. Default <see cref="Accelerators.H100_SXM"/>,
    /// the GPU the device tool lends.
    /// </summary>
    public Accelerator Accelerator { get; init; } = Accelerators.H100_SXM;

    /// <summary>Tensor-parallel degree; null takes Core's minimum-accelerator layout. The paper's Table 1 counts are set explicitly.</summary>
    public int? TensorParallelDegree { get; init; }

    /// <summary>Pipeline stages; null takes Core's minimum-accelerator layout.</summary>
    public int? PipelineStages { get; init; }

    /// <summary>Link of the tensor-parallel group; null takes <see cref="Interconnects.ForAccelerator"/> (NVLink 4 on H100/H200, NVLink 3 on A100).</summary>
    public Interconnect? TensorParallelLink { get; init; }

    /// <summary>Link between pipeline stages (servers). Default InfiniBand NDR, one 400 Gb/s port per GPU as in a DGX H100.</summary>
    public Interconnect PipelineLink { get; init; } = Interconnects.InfiniBandNdr;

    /// <summary>Bytes per activation element sent between ranks and stages. Default 2 (bf16/fp16).</summary>
    public double ActivationBytes { get; init; } = 2;

    /// <summary>How each stage's samples are fitted. Default <see cref="RuntimeFitOptions.Default"/> (the paper's minimum over trials).</summary>
    public RuntimeFitOptions FitOptions { get; init; } = RuntimeFitOptions.Default;

    /// <summary>
    /// Emulate the layout from rank-0 shards on one GPU (default), or run every rank for real on its own GPU
    /// (<see cref="ParallelExecution.Real"/>: tensor parallel only, one pipeline stage).
    /// </summary>
    public ParallelExecution Execution { get; init; }

    /// <summary>
    /// Time every stage. Default false: with more than two stages, the middle stages reuse the profile of stage 1 whenever
    /// they hold as many layers (they differ from it in nothing else).
    /// </summary>
    public bool ProfileEveryStage { get; init; }

    /// <summary>
    /// Checks the options a run would otherwise refuse only after timing its shards (the collectives' model reads the
    /// activation size and links once the stages are fitted); <paramref name="paramName"/> names the argument that holds them.
    /// </summary>
    /// <exception cref="ArgumentException">An option that is out of range or missing; the message names it and the fix.</exception>
    internal ParallelProfileOptions Validate(string paramName)
    {
        if (Accelerator is null || PipelineLink is null || FitOptions is null)
        {
            var missing = Accelerator is null ? nameof(Accelerator) : PipelineLink is null ? nameof(PipelineLink) : nameof(FitOptions);
            throw new ArgumentException($"ParallelProfileOptions.{missing} is null; leave it at its default.", paramName);
        }

        if (TensorParallelDegree is < 1)
        {
            throw new ArgumentOutOfRangeException(paramName, TensorParallelDegree, "ParallelProfileOptions.TensorParallelDegree must be 1 or more, or null for Core's minimum-accelerator layout.");
        }

        if (PipelineStages is < 1)
        {
            throw new ArgumentOutOfRangeException(paramName, PipelineStages, "ParallelProfileOptions.PipelineStages must be 1 or more, or null for Core's minimum-accelerator layout.");
        }

        if (!double.IsFinite(ActivationBytes) || ActivationBytes <= 0)
        {
            throw new ArgumentOutOfRangeException(paramName, ActivationBytes, "ParallelProfileOptions.ActivationBytes must be a positive number of bytes per activation element sent between ranks: 2 for bf16/fp16 (the default), 4 for fp32.");
        }

        if (!Enum.IsDefined(Execution))
        {
            throw new ArgumentOutOfRangeException(paramName, Execution, "ParallelProfileOptions.Execution must be Emulated or Real.");
        }

        // Their own checks name the link or accelerator and the field.
        Accelerator.Validate();
        PipelineLink.Validate();
        TensorParallelLink?.Validate();
        return this;
    }
}
