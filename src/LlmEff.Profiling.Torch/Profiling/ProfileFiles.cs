using System.Globalization;
using LlmEff.Core.Architecture;
using LlmEff.Core.Energy;

namespace LlmEff.Profiling.Torch;

/// <summary>
/// How profiling outputs are named, spelled once so the library (<see cref="TorchProfiler.ProfileToFolderAsync"/>), the GPU
/// harness and <c>llmeff profile torch</c> agree on file names.
/// </summary>
public static class ProfileFiles
{
    /// <summary>
    /// File-name stem of a model: its name in lower case with every character other than a letter or digit as '-'
    /// (<c>EleutherAI/GPT-J</c> → <c>eleutherai-gpt-j</c>).
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="modelName"/> is null.</exception>
    public static string Slug(string modelName)
    {
        ArgumentNullException.ThrowIfNull(modelName);
        return new string(modelName.Select(c => char.IsLetterOrDigit(c) ? char.ToLowerInvariant(c) : '-').ToArray());
    }

    /// <summary>The samples of the whole model on one device, appended as measured: <c>{slug}-samples.csv</c>.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="architecture"/> is null.</exception>
    public static string SamplesFileName(TransformerArchitecture architecture) => Stem(architecture) + "-samples.csv";

    /// <summary>The fitted runtime model of the whole model on one device: <c>{slug}-runtime-model.json</c>.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="architecture"/> is null.</exception>
    public static string RuntimeModelFileName(TransformerArchitecture architecture) => Stem(architecture) + "-runtime-model.json";

    /// <summary>The batched runtime model's file, <c>&lt;model&gt;-batched-runtime-model.json</c>, of a batched profile.</summary>
    public static string BatchedRuntimeModelFileName(TransformerArchitecture architecture) => Stem(architecture) + "-batched-runtime-model.json";

    /// <summary>
    /// The measured energy model beside the runtime model: <c>{slug}-runtime-model.energy.json</c>
    /// (<see cref="EnergyModelJson.CompanionPath"/> of <see cref="RuntimeModelFileName"/>).
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="architecture"/> is null.</exception>
    public static string EnergyModelFileName(TransformerArchitecture architecture) => EnergyModelJson.CompanionPath(RuntimeModelFileName(architecture));

    /// <summary>The samples of one pipeline stage's rank-0 shard: <c>{slug}-tp{N}-pp{S}-stage{s}-samples.csv</c>.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="architecture"/> is null.</exception>
    public static string StageSamplesFileName(TransformerArchitecture architecture, int tensorParallelDegree, int pipelineStages, int stage)
        => string.Create(CultureInfo.InvariantCulture, $"{LayoutStem(architecture, tensorParallelDegree, pipelineStages)}-stage{stage}-samples.csv");

    /// <summary>The composed model of an emulated N × S deployment: <c>{slug}-tp{N}-pp{S}-runtime-model.json</c>.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="architecture"/> is null.</exception>
    public static string ParallelRuntimeModelFileName(TransformerArchitecture architecture, int tensorParallelDegree, int pipelineStages)
        => LayoutStem(architecture, tensorParallelDegree, pipelineStages) + "-runtime-model.json";

    /// <summary>The batched model of an emulated N-way deployment profiled in static batches: <c>{slug}-tp{N}-pp{S}-batched-runtime-model.json</c>.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="architecture"/> is null.</exception>
    public static string ParallelBatchedRuntimeModelFileName(TransformerArchitecture architecture, int tensorParallelDegree, int pipelineStages)
        => LayoutStem(architecture, tensorParallelDegree, pipelineStages) + "-batched-runtime-model.json";

    /// <summary>The samples of a real N-way tensor-parallel run: <c>{slug}-tp{N}-real-samples.csv</c>.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="architecture"/> is null.</exception>
    public static string RealSamplesFileName(TransformerArchitecture architecture, int tensorParallelDegree)
        => string.Create(CultureInfo.InvariantCulture, $"{Stem(architecture)}-tp{tensorParallelDegree}-real-samples.csv");

    /// <summary>The model fitted from a real N-way tensor-parallel run: <c>{slug}-tp{N}-real-runtime-model.json</c>.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="architecture"/> is null.</exception>
    public static string RealRuntimeModelFileName(TransformerArchitecture architecture, int tensorParallelDegree)
        => string.Create(CultureInfo.InvariantCulture, $"{Stem(architecture)}-tp{tensorParallelDegree}-real-runtime-model.json");

    private static string Stem(TransformerArchitecture architecture)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        return Slug(architecture.Name);
    }

    private static string LayoutStem(TransformerArchitecture architecture, int tensorParallelDegree, int pipelineStages)
        => string.Create(CultureInfo.InvariantCulture, $"{Stem(architecture)}-tp{tensorParallelDegree}-pp{pipelineStages}");
}
