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
    /// The checks that need no model, run before the profiling thread starts so a caller sees them at once: the layout (a
    /// degree that does not fit throws), and whether the samples file may be resumed.
    /// </summary>
    public static (int TensorParallelDegree, int PipelineStages) Prepare(ProfileFolderOptions options, ILoggerFactory loggers)
    {
        var architecture = options.Architecture;
        var (n, stages) = options.Parallel is null ? (1, 1) : new ParallelProfiler(options.Profiler, options.Parallel, loggers).Layout(architecture, options.Plan);
        if (IsReal(options, (n, stages)))
        {
            // Layout (batch sizes included), GPU count and the samples file are all checked before NCCL starts or a shard is built.
            new ParallelProfiler(options.Profiler, options.Parallel, loggers).RealDevices(architecture, options.Plan, n, stages, () => TorchSharp.torch.cuda.device_count());
            CheckResumable(Path.Combine(options.OutputDirectory, ProfileFiles.RealSamplesFileName(architecture, n)), options.Profiler.SourceLabel ?? TorchProfiler.RealSourceLabel(architecture, options.Profiler.Model.Precision, n), options.Resume);
            return (n, stages);
        }

        ParallelProfiler.CheckBatchedLayout(architecture, options.Plan, n, stages);
        if ((n, stages) == (1, 1))
        {
            // Checked before the model is built (minutes for a large one); the profiler checks the label again as it resumes.
            CheckResumable(Path.Combine(options.OutputDirectory, ProfileFiles.SamplesFileName(architecture)), options.SourceLabel, options.Resume);
        }
        else if (!options.Resume)
        {
            for (var s = 0; s < stages; s++)
            {
                CheckResumable(Path.Combine(options.OutputDirectory, ProfileFiles.StageSamplesFileName(architecture, n, stages, s)), null, resume: false);
            }
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

    /// <summary>Refuses a samples file of another model or precision, or any samples when the run must not resume.</summary>
    private static void CheckResumable(string samplesPath, string? label, bool resume)
    {
        if (!File.Exists(samplesPath) || new FileInfo(samplesPath).Length == 0)
        {
            return;
        }

        if (!resume)
        {
            throw new InvalidOperationException($"{samplesPath} already holds samples; set ProfileFolderOptions.Resume = true to continue that run, or choose another output folder.");
        }

        var foreign = ProfilingSampleCsvWriter.ReadForResume(samplesPath).FirstOrDefault(s => s.Source != label);
        if (foreign is not null)
        {
            throw new InvalidOperationException($"{samplesPath} holds samples of '{foreign.Source}', not '{label}'; resume only with the same model and precision, or choose another output folder.");
        }
    }
}
