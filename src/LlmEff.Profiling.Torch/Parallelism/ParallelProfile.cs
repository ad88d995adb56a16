using LlmEff.Core;
using LlmEff.Core.Architecture;
using LlmEff.Core.Batching;
using LlmEff.Core.Hardware;

namespace LlmEff.Profiling.Torch;

/// <summary>
/// A model profiled as a multi-GPU deployment from one GPU: each pipeline stage's tensor-parallel rank-0 shard timed
/// for real, its modelled collectives added, and the stages chained into the whole model's <see cref="Model"/>.
/// </summary>
/// <param name="Architecture">The whole model.</param>
/// <param name="TensorParallelDegree">Tensor-parallel degree <c>N</c>.</param>
/// <param name="PipelineStages">Pipeline stages <c>S</c>.</param>
/// <param name="TensorParallelLink">The link whose all-reduce time was added per layer.</param>
/// <param name="PipelineLink">The link whose activation transfer was added per stage boundary.</param>
/// <param name="StageProfiles">The measured shard profile used for each stage, in stage order (middle stages may share one).</param>
/// <param name="StageShardModels">Each stage's shard fitted alone (no collectives; carries the fit's R² and residuals), in stage order.</param>
/// <param name="StageModels">Each stage's fitted shard model with its collectives added, in stage order.</param>
/// <param name="Model">The whole model: <see cref="Core.Parallelism.ParallelComposition.ComposePipeline"/> of the stages; marked emulated, with <c>N·S</c> accelerators.</param>
public sealed record ParallelProfile(
    TransformerArchitecture Architecture,
    int TensorParallelDegree,
    int PipelineStages,
    Interconnect TensorParallelLink,
    Interconnect PipelineLink,
    IReadOnlyList<TorchProfile> StageProfiles,
    IReadOnlyList<RuntimeModel> StageShardModels,
    IReadOnlyList<RuntimeModel> StageModels,
    RuntimeModel Model)
{
    /// <summary>GPUs of the deployment, <c>N · S</c>.</summary>
    public int AcceleratorCount => TensorParallelDegree * PipelineStages;

    /// <summary>Whether the ranks were emulated from rank 0's shard or all ran (<see cref="ParallelExecution.Real"/>: no modelled collectives).</summary>
    public ParallelExecution Execution { get; init; }

    /// <summary>
    /// For a batched plan (one stage, emulated): rank 0's shard fitted at every profiled batch size, without collectives;
    /// null for a batch-1 plan. <see cref="StageShardModels"/> then hold its batch-1 model.
    /// </summary>
    public BatchedRuntimeModel? BatchedShardModel { get; init; }

    /// <summary>
    /// For a batched plan: the whole model under static batching, <see cref="BatchedShardModel"/> with each batch size's
    /// collectives added (<see cref="Core.Parallelism.ParallelComposition.AddTensorParallelCommunication(BatchedRuntimeModel, Core.Parallelism.TensorParallelCollectives)"/>);
    /// <see cref="Model"/> is its batch-1 model. Null for a batch-1 plan.
    /// </summary>
    public BatchedRuntimeModel? BatchedModel { get; init; }
}
