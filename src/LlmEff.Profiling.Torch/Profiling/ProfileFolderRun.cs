using LlmEff.Core;
using LlmEff.Core.Batching;
using LlmEff.Core.Energy;
using LlmEff.Core.Serialization;
using Microsoft.Extensions.Logging;

namespace LlmEff.Profiling.Torch;

/// <summary>The body of <see cref="TorchProfiler.ProfileToFolderAsync"/>: layout and resume check up front, then profile, fits, files.</summary>
internal static class ProfileFolderRun
{
    /// <summary>
    /// The checks that need no model, run before the profiling thread starts so a caller sees them at once and nothing is
    /// written: the profiler's and the layout's options, the layout (a degree or stage count that does not fit throws), and
    /// whether each samples file the run appends to may be resumed (its label and recorded setup).
    /// </summary>
    public static (int TensorParallelDegree, int PipelineStages) Prepare(ProfileFolderOptions options, ILoggerFactory loggers)
    {
        var architecture = options.Architecture;
        var (n, stages) = options.Parallel is null ? (1, 1) : new ParallelProfiler(options.Profiler, options.Parallel, loggers).Layout(architecture, options.Plan);
        if (options.Plan.IsAdaptive && (n, stages) != (1, 1))
        {
            // Each stage's planner would choose other configurations than the next stage's, and ranks must run the same queries.
            throw new ArgumentException(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"An adaptive plan profiles the whole model on one device; the layout here is {n}-way tensor parallel over {stages} pipeline stage(s). Profile the layout on the grid (drop the plan's AdaptiveBudget), or the whole model on one GPU."), nameof(options));
        }

        if (IsReal(options, (n, stages)))
        {
            // Layout (batch sizes included), GPU count and the samples file are all checked before NCCL starts or a shard is built.
            new ParallelProfiler(options.Profiler, options.Parallel, loggers).RealDevices(architecture, options.Plan, n, stages, () => TorchSharp.torch.cuda.device_count());
            _ = ModelShard.TensorParallel(n).Resolve(architecture);
            TorchProfiler.RealSetupOf(options.Profiler, architecture, n, options.Plan)
                .CheckResumable(Path.Combine(options.OutputDirectory, ProfileFiles.RealSamplesFileName(architecture, n)), options.Resume);
            return (n, stages);
        }

        ParallelProfiler.CheckBatchedLayout(architecture, options.Plan, n, stages);
        if ((n, stages) == (1, 1))
        {
            // Checked before the model is built (minutes for a large one); the profiler checks again as it resumes.
            TorchProfiler.SetupOf(options.Profiler, architecture, ModelShard.Full, options.Plan)
                .CheckResumable(Path.Combine(options.OutputDirectory, ProfileFiles.SamplesFileName(architecture)), options.Resume);
            return (n, stages);
        }

        // Every stage's shard is resolved (a degree or stage count that does not fit throws, naming the valid ones) and
        // every stage's samples file checked before the first stage is built, not when the run reaches that stage.
        for (var s = 0; s < stages; s++)
        {
            var shard = new ModelShard { TensorParallelDegree = n, PipelineStages = stages, PipelineStage = s };
            _ = shard.Resolve(architecture);
            TorchProfiler.SetupOf(options.Profiler, architecture, shard, options.Plan)
                .CheckResumable(Path.Combine(options.OutputDirectory, ProfileFiles.StageSamplesFileName(architecture, n, stages, s)), options.Resume);
        }

        return (n, stages);
    }

    public static ProfileFolderResult Run(ProfileFolderOptions options, (int TensorParallelDegree, int PipelineStages) layout, IProgress<ProfilingProgress>? progress, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(options.OutputDirectory);
        return layout == (1, 1) && !IsReal(options, layout)
            ? RunSingle(options, progress, loggers, cancellationToken)
            : RunParallel(options, layout.TensorParallelDegree, layout.PipelineStages, progress, loggers, cancellationToken);
    }

    /// <summary>A real run of more than one rank (one rank is the ordinary single-device run).</summary>
    private static bool IsReal(ProfileFolderOptions options, (int TensorParallelDegree, int PipelineStages) layout)
        => options.Parallel is { Execution: ParallelExecution.Real } && layout != (1, 1);

    private static ProfileFolderResult RunSingle(ProfileFolderOptions options, IProgress<ProfilingProgress>? progress, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var architecture = options.Architecture;
        var samplesPath = Path.Combine(options.OutputDirectory, ProfileFiles.SamplesFileName(architecture));
        var profiler = new TorchProfiler(options.Profiler with { SourceLabel = options.SourceLabel, Shard = ModelShard.Full }, loggers.CreateLogger<TorchProfiler>());
        var profile = profiler.Run(architecture, options.Plan, samplesPath, progress, cancellationToken);
        if (options.Plan.IsBatched)
        {
            return FitBatched(options, profile, samplesPath, loggers);
        }

        RuntimeModel model;
        try
        {
            model = profile.Fit(options.FitOptions, loggers.CreateLogger<RuntimeModel>());
        }
        catch (ArgumentException ex)
        {
            throw new InvalidOperationException($"The {profile.Samples.Count} samples in {samplesPath} could not be fitted: {ex.Message}", ex);
        }

        var modelPath = Path.Combine(options.OutputDirectory, ProfileFiles.RuntimeModelFileName(architecture));
        RuntimeModelJson.Save(model, modelPath);
        EnergyModel? energy = null;
        string? energyPath = null;
        if (profile.HasEnergy)
        {
            try
            {
                energy = profile.FitEnergy(options.EnergyFitOptions, loggers.CreateLogger<EnergyModel>());
                energyPath = Path.Combine(options.OutputDirectory, ProfileFiles.EnergyModelFileName(architecture));
                EnergyModelJson.Save(energy, energyPath);
            }
            catch (ArgumentException ex)
            {
                // The runtime model is good without it: say why there is no energy model rather than fail the run.
                loggers.CreateLogger<TorchProfiler>().LogWarning("No energy model written: {Reason}", ex.Message);
            }
        }

        return new ProfileFolderResult(architecture, 1, 1, [samplesPath], model, modelPath)
        {
            Profile = profile,
            Assessment = profile.Assess(options.FitOptions, cancellationToken),
            Energy = energy,
            EnergyModelPath = energyPath,
        };
    }

    private static ProfileFolderResult FitBatched(ProfileFolderOptions options, TorchProfile profile, string samplesPath, ILoggerFactory loggers)
    {
        var architecture = options.Architecture;
        BatchedRuntimeModel batched;
        try
        {
            var fit = options.FitOptions == RuntimeFitOptions.Default ? null : options.FitOptions;
            batched = profile.FitBatched(fit, loggers.CreateLogger<BatchedRuntimeModel>());
        }
        catch (ArgumentException ex)
        {
            throw new InvalidOperationException($"The {profile.Samples.Count} samples in {samplesPath} could not be fitted: {ex.Message}", ex);
        }

        var batchedPath = Path.Combine(options.OutputDirectory, ProfileFiles.BatchedRuntimeModelFileName(architecture));
        File.WriteAllText(batchedPath, batched.ToJson());
        var smallest = batched.BatchModels[0];
        var modelPath = Path.Combine(options.OutputDirectory, ProfileFiles.RuntimeModelFileName(architecture));
        RuntimeModelJson.Save(smallest, modelPath);
        return new ProfileFolderResult(architecture, 1, 1, [samplesPath], smallest, modelPath)
        {
            Profile = profile,
            BatchedModel = batched,
            BatchedModelPath = batchedPath,
        };
    }

    private static ProfileFolderResult RunParallel(ProfileFolderOptions options, int n, int stages, IProgress<ProfilingProgress>? progress, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var architecture = options.Architecture;
        var parallel = options.Parallel! with { TensorParallelDegree = n, PipelineStages = stages, FitOptions = options.FitOptions };
        var result = new ParallelProfiler(options.Profiler, parallel, loggers).Run(architecture, options.Plan, options.OutputDirectory, progress, cancellationToken);
        var modelPath = Path.Combine(options.OutputDirectory, result.Execution == ParallelExecution.Real
            ? ProfileFiles.RealRuntimeModelFileName(architecture, n)
            : ProfileFiles.ParallelRuntimeModelFileName(architecture, n, stages));
        RuntimeModelJson.Save(result.Model, modelPath);
        var samples = result.StageProfiles.Distinct().Select(p => p.SamplesPath!).ToArray();
        string? batchedPath = null;
        if (result.BatchedModel is { } batched)
        {
            batchedPath = Path.Combine(options.OutputDirectory, ProfileFiles.ParallelBatchedRuntimeModelFileName(architecture, n, stages));
            File.WriteAllText(batchedPath, batched.ToJson());
        }

        return new ProfileFolderResult(architecture, n, stages, samples, result.Model, modelPath)
        {
            Parallel = result,
            BatchedModel = result.BatchedModel,
            BatchedModelPath = batchedPath,
        };
    }
}
