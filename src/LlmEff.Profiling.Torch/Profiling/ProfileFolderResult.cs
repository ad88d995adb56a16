using LlmEff.Core;
using LlmEff.Core.Architecture;
using LlmEff.Core.Batching;
using LlmEff.Core.Energy;

namespace LlmEff.Profiling.Torch;

/// <summary>What <see cref="TorchProfiler.ProfileToFolderAsync"/> measured, fitted and wrote.</summary>
/// <param name="Architecture">The profiled architecture.</param>
/// <param name="TensorParallelDegree">Tensor-parallel degree N of the layout; 1 for the whole model on one device.</param>
/// <param name="PipelineStages">Pipeline stages S of the layout; 1 for the whole model on one device.</param>
/// <param name="SamplesPaths">The samples files: one for a single device, one per measured stage for an emulated layout.</param>
/// <param name="Model">The fitted runtime model (for an emulated layout: the composed whole model, marked emulated).</param>
/// <param name="ModelPath">Where <paramref name="Model"/> was written.</param>
public sealed record ProfileFolderResult(
    TransformerArchitecture Architecture,
    int TensorParallelDegree,
    int PipelineStages,
    IReadOnlyList<string> SamplesPaths,
    RuntimeModel Model,
    string ModelPath)
{
    /// <summary>The batched runtime model of a batched plan (then <see cref="Model"/> is its batch-1 model); null otherwise.</summary>
    public BatchedRuntimeModel? BatchedModel { get; init; }

    /// <summary>Where <see cref="BatchedModel"/> was written; null when there is none.</summary>
    public string? BatchedModelPath { get; init; }

    /// <summary>
    /// An adaptive plan's fit with its own estimate of the error at the candidates it did not measure
    /// (<see cref="TorchProfile.Assess"/>); null for a grid.
    /// </summary>
    public Core.Planning.PlanAssessment? Assessment { get; init; }

    /// <summary>The single-device profile (samples, hardware, powers); null for an emulated layout.</summary>
    public TorchProfile? Profile { get; init; }

    /// <summary>The emulated layout's stages, shard fits and collectives; null for a single device.</summary>
    public ParallelProfile? Parallel { get; init; }

    /// <summary>The measured energy model; null when no sample carries energy, and for emulated layouts (whose energy is not composed).</summary>
    public EnergyModel? Energy { get; init; }

    /// <summary>Where <see cref="Energy"/> was written; null when it was not.</summary>
    public string? EnergyModelPath { get; init; }

    /// <summary>GPUs of the deployment, <c>N · S</c>.</summary>
    public int AcceleratorCount => TensorParallelDegree * PipelineStages;

    /// <summary>Samples in all files, resumed ones included.</summary>
    public int SampleCount => Profile?.Samples.Count ?? Parallel!.StageProfiles.Distinct().Sum(p => p.Samples.Count);

    /// <summary>Samples read back from the files instead of measured in this run.</summary>
    public int ResumedSamples => Profile?.ResumedSamples ?? Parallel!.StageProfiles.Distinct().Sum(p => p.ResumedSamples);
}
