using LlmEff.Core;
using LlmEff.Core.Architecture;
using LlmEff.Core.Batching;
using LlmEff.Core.Hardware;
using LlmEff.Core.Parallelism;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TorchSharp;

namespace LlmEff.Profiling.Torch;

/// <summary>
/// Profiles a model that needs <c>N × S</c> GPUs on the one at hand: for each pipeline stage it builds tensor-parallel
/// rank 0's shard, times real generation exactly as that rank runs it (its 1/N of every matrix, its heads' KV cache,
/// its vocabulary slice) with <see cref="TorchProfiler"/>, fits the paper's runtime model, adds the rank's collectives
/// from Core's communication model (<see cref="ParallelComposition.AddTensorParallelCommunication(RuntimeModel, TensorParallelCollectives)"/>) and chains the
/// stages (<see cref="ParallelComposition.ComposePipeline"/>). The result is an ordinary <see cref="RuntimeModel"/> whose
/// provenance says it was emulated, with which degrees and link parameters.
/// </summary>
public sealed class ParallelProfiler
{
    private readonly ILogger<TorchProfiler> _profilerLogger;
    private readonly ILogger _logger;

    /// <summary>Creates a profiler; <paramref name="profilerOptions"/> set the device, precision, energy and memory check (its <c>Shard</c> is replaced per stage).</summary>
    public ParallelProfiler(TorchProfilerOptions? profilerOptions = null, ParallelProfileOptions? options = null, ILoggerFactory? loggers = null)
    {
        ProfilerOptions = profilerOptions ?? TorchProfilerOptions.Default;
        Options = options ?? ParallelProfileOptions.Default;
        _profilerLogger = loggers?.CreateLogger<TorchProfiler>() ?? NullLogger<TorchProfiler>.Instance;
        _logger = (ILogger?)loggers?.CreateLogger<ParallelProfiler>() ?? NullLogger<ParallelProfiler>.Instance;
    }

    /// <summary>Device, precision and energy settings of the shard runs.</summary>
    public TorchProfilerOptions ProfilerOptions { get; }

    /// <summary>Degrees and links.</summary>
    public ParallelProfileOptions Options { get; }

    /// <summary>
    /// The layout used for <paramref name="architecture"/>: the options' degrees, or Core's minimum-accelerator layout
    /// on <see cref="ParallelProfileOptions.Accelerator"/> for those left null. Core's plan checks the heads only; where its
    /// degree does not split the FFN width (<see cref="ModelShard.ValidTensorParallelDegrees"/>), the largest valid degree
    /// below it is taken, with as many more pipeline stages (a divisor of the layers where one fits) as the memory needs.
    /// </summary>
    /// <exception cref="InvalidOperationException">No layout holds the model on the accelerator.</exception>
    public (int TensorParallelDegree, int PipelineStages) Layout(TransformerArchitecture architecture, ProfilingPlan plan)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        ArgumentNullException.ThrowIfNull(plan);
        if (Options.TensorParallelDegree is { } given && Options.PipelineStages is { } stages)
        {
            return (given, stages);
        }

        var serving = AcceleratorPlanner.MinimumAccelerators(architecture, Options.Accelerator, new ServingRequirements
        {
            ContextTokens = Math.Min(architecture.MaxContextTokens, plan.CapacityTokens),
            Precision = ProfilerOptions.Model.Precision.BytesPerElement() == 4 ? new Core.Analysis.InferencePrecision(4, 4) : Core.Analysis.InferencePrecision.Bf16,
        });
        var n = Options.TensorParallelDegree ?? serving.TensorParallelDegree;
        var valid = ModelShard.ValidTensorParallelDegrees(architecture);
        if (Options.TensorParallelDegree is not null || valid.Contains(n))
        {
            return (n, Options.PipelineStages ?? serving.PipelineStages);
        }

        // A shard of Core's degree could not be built (e.g. YaLM's FFN width 27,308 is not divisible by 8): step down to
        // a degree that splits every matrix, and make up the memory with pipeline stages. Degree 1 is always valid.
        var degree = valid.Where(d => d < n).Max();
        return (degree, Options.PipelineStages ?? StagesToFit(architecture, serving, degree));
    }

    // The fewest pipeline stages from the plan's up with which `degree` ranks per stage hold the plan's memory, preferring a
    // divisor of the layers as Core's planner does. The KV cache is counted as at the plan's degree (replicated key/value
    // heads make it no smaller at a lower degree), so the stages are enough.
    private static int StagesToFit(TransformerArchitecture architecture, ServingPlan serving, int degree)
    {
        var needed = (int)Math.Ceiling(serving.RequiredBytes / (degree * serving.UsableBytesPerAccelerator));
        var from = Math.Max(serving.PipelineStages, needed);
        if (from > architecture.Layers)
        {
            throw new InvalidOperationException(FormattableString.Invariant(
                $"{architecture.Name} needs {serving.RequiredBytes / 1e9:F1} GB, but at tensor-parallel degree {degree} (the largest of {string.Join(", ", ModelShard.ValidTensorParallelDegrees(architecture))} that splits its FFN width {architecture.RoutedFfnHiddenSize}) even one layer per stage on {serving.Accelerator.Name} does not hold it; set the layout (TensorParallelDegree, PipelineStages) or use a larger accelerator."));
        }

        for (var stages = from; stages <= architecture.Layers; stages++)
        {
            if (architecture.Layers % stages == 0)
            {
                return stages;
            }
        }

        return from;
    }

    /// <summary>
    /// Profiles every distinct stage's rank-0 shard and composes the whole model. Each stage's samples go to
    /// <see cref="ProfileFiles.StageSamplesFileName"/> in <paramref name="outputDirectory"/> as they are measured, so an
    /// interrupted run resumes where it stopped.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A degree or stage count that does not fit the architecture (the message names the valid degrees).</exception>
    /// <exception cref="InsufficientGpuMemoryException">A shard does not fit the GPU; the message says how many more ways to split it.</exception>
    public ParallelProfile Run(TransformerArchitecture architecture, ProfilingPlan plan, string? outputDirectory = null, IProgress<ProfilingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        ArgumentNullException.ThrowIfNull(plan);
        plan.Validate();
        architecture.Validate();
        // Before any shard is timed: the activation size and links are first read when the collectives are added.
        Options.Validate(nameof(Options));
        var (n, stages) = Layout(architecture, plan);
        if (Options.Execution == ParallelExecution.Real)
        {
            return RunReal(architecture, plan, n, stages, outputDirectory, progress, cancellationToken);
        }

        CheckBatchedLayout(architecture, plan, n, stages);
        var shards = Enumerable.Range(0, stages)
            .Select(s => new ModelShard { TensorParallelDegree = n, PipelineStages = stages, PipelineStage = s })
            .ToArray();
        var shapes = shards.Select(s => s.Resolve(architecture)).ToArray(); // validates before anything is built
        var link = Options.TensorParallelLink ?? Interconnects.ForAccelerator(Options.Accelerator);
        if (outputDirectory is not null)
        {
            Directory.CreateDirectory(outputDirectory);
        }

        // Which measured stage stands for each stage: itself, or stage 1 for middle stages of the same size.
        var source = Enumerable.Range(0, stages)
            .Select(s => !Options.ProfileEveryStage && s > 1 && s < stages - 1 && shapes[s].Layers == shapes[1].Layers ? 1 : s)
            .ToArray();
        _logger.LogInformation(
            "{Model}: {N}-way tensor parallel x {S} stage(s) = {Gpus} GPUs emulated on {Device}; timing stage(s) {Stages}",
            architecture.Name, n, stages, n * stages, ProfilerOptions.Device, string.Join(", ", source.Distinct()));

        var measured = new Dictionary<int, (TorchProfile Profile, RuntimeModel Shard, RuntimeModel Model)>();
        BatchedRuntimeModel? batchedShard = null;
        BatchedRuntimeModel? batchedModel = null;
        long released = 0;
        // One count over every measured stage: each stage's own run counts from 1 to its points again.
        var measuredStages = source.Distinct().ToArray();
        var done = 0;
        var resumedBefore = 0;
        foreach (var s in measuredStages)
        {
            cancellationToken.ThrowIfCancellationRequested();
            // The previous stage's shard is released but stays in PyTorch's cache, which NVML counts as used.
            var stageOptions = ProfilerOptions with { Shard = shards[s], ReusableMemoryBytes = ProfilerOptions.ReusableMemoryBytes + released };
            var profiler = new TorchProfiler(stageOptions, _profilerLogger);
            released = Math.Max(released, profiler.MemoryRequirement(architecture, plan).TotalBytes - GpuMemoryRequirement.FixedOverheadBytes);
            var csv = outputDirectory is null ? null : Path.Combine(outputDirectory, ProfileFiles.StageSamplesFileName(architecture, n, stages, s));
            var offset = done;
            var resumedOffset = resumedBefore;
            var stageProgress = progress is null ? null : new StageProgress(progress, r => r with
            {
                Completed = offset + r.Completed,
                Total = r.Total * measuredStages.Length,
                Resumed = resumedOffset + r.Resumed,
            });
            var profile = profiler.Run(architecture, plan, csv, stageProgress, cancellationToken);
            done += profile.Samples.Count;
            resumedBefore += profile.ResumedSamples;
            var collectives = new TensorParallelCollectives(architecture, shapes[s].Layers, n, link, Options.ActivationBytes)
            {
                IncludesEmbedding = shapes[s].HasEmbedding,
                IncludesOutputProjection = shapes[s].HasHead,
            };
            if (plan.IsBatched)
            {
                // The batched fit defaults to the context-aware decode (b KV caches grow with context), as TorchProfile.FitBatched.
                batchedShard = profile.FitBatched(Options.FitOptions == RuntimeFitOptions.Default ? null : Options.FitOptions);
                batchedModel = n > 1 ? ParallelComposition.AddTensorParallelCommunication(batchedShard, collectives) : batchedShard;
            }

            var fit = plan.IsBatched ? batchedShard!.BatchModels[0] : profile.Fit(Options.FitOptions);
            // A negative g kept on purpose (KeepNonPhysicalFit: the fit's warnings say so) passes through, into the chained
            // stages too, which then carry its warnings (ParallelComposition.ComposePipeline).
            if (fit.PerOutputTokenSeconds < 0 && !Options.FitOptions.KeepNonPhysicalFit)
            {
                throw new InvalidOperationException(FormattableString.Invariant(
                    $"{architecture.Name} stage {s}: the fitted per-output-token time is negative ({fit.PerOutputTokenSeconds:G3} s): the timings are noisier than a decode step. Profile on an idle device, with more trials or longer outputs."));
            }

            var withCollectives = n > 1 ? ParallelComposition.AddTensorParallelCommunication(fit, collectives) : fit;
            measured[s] = (profile, fit, withCollectives);
            _logger.LogInformation(
                "{Model} stage {Stage}: shard g = {G:F3} ms, with collectives {Gc:F3} ms; R^2 {R2:F5}",
                architecture.Name, s, fit.PerOutputTokenSeconds * 1e3, withCollectives.PerOutputTokenSeconds * 1e3, fit.RSquared);
        }

        var stageModels = source.Select(s => measured[s].Model).ToArray();
        var whole = stages == 1 ? stageModels[0] : ParallelComposition.ComposePipeline(stageModels, architecture.HiddenSize, Options.PipelineLink, Options.ActivationBytes);
        var m = whole.Metadata;
        var reused = source.Distinct().Count() < stages ? "; middle stages reuse stage 1" : string.Empty;
        var notes = FormattableString.Invariant(
            $"emulated {n}x{stages} (tensor x pipeline) = {n * stages} GPUs from rank-0 shards timed on one GPU (stage(s) {string.Join(",", source.Distinct())} measured{reused}); tensor-parallel collectives over {link.Name} ({link.LatencySeconds * 1e6:G3} us, {link.BusBandwidthBytesPerSecond / 1e9:G4} GB/s: {link.Source})");
        if (stages > 1)
        {
            var pl = Options.PipelineLink;
            notes += FormattableString.Invariant($"; stage transfers over {pl.Name} ({pl.LatencySeconds * 1e6:G3} us, {pl.BusBandwidthBytesPerSecond / 1e9:G4} GB/s: {pl.Source})");
        }

        // The composed model is not itself a regression; the stages' fits carry the R².
        notes += "; stage fit R² " + string.Join(", ", source.Distinct().Select(s => FormattableString.Invariant($"{s}: {measured[s].Shard.RSquared:F5}")));
        notes += "; shard: " + measured[source[0]].Profile.ToMetadata().Notes;
        var software = ComposedSoftware(source.Distinct().Select(s => (s, measured[s].Profile.Software)).ToList());
        var model = whole.WithMetadata(m with
        {
            Software = software,
            // When the last stage's samples were taken (the composition starts from the first stage's metadata).
            MeasuredUtc = source.Distinct().Max(s => measured[s].Profile.MeasuredUtc),
            ModelName = architecture.Name,
            AcceleratorCount = n * stages,
            Emulated = n * stages > 1 || m.Emulated,
            Hardware = n * stages > 1 ? $"{measured[source[0]].Profile.Hardware}; {n * stages} emulated" : measured[source[0]].Profile.Hardware,
            Notes = notes,
        });
        return new ParallelProfile(architecture, n, stages, link, Options.PipelineLink, source.Select(s => measured[s].Profile).ToArray(), source.Select(s => measured[s].Shard).ToArray(), stageModels, model)
        {
            BatchedShardModel = batchedShard,
            BatchedModel = batchedModel?.WithMetadata(batchedModel.Metadata with
            {
                Software = software,
                MeasuredUtc = model.Metadata.MeasuredUtc,
                ModelName = architecture.Name,
                Hardware = model.Metadata.Hardware,
                Notes = notes,
            }),
        };
    }

    /// <summary>
    /// The checks of a batched plan on an emulated layout, made before anything is built: one pipeline stage (static
    /// batches compose one stage's collectives per batch size; pipelined stages would overlap batches) and batch size 1
    /// among the plan's (the profile's batch-1 model). Nothing to check for a batch-1 plan.
    /// </summary>
    /// <exception cref="ArgumentException">A batched plan with pipeline stages, or without batch size 1.</exception>
    internal static void CheckBatchedLayout(TransformerArchitecture architecture, ProfilingPlan plan, int n, int stages)
    {
        if (!plan.IsBatched)
        {
            return;
        }

        if (stages != 1)
        {
            throw new ArgumentException($"{architecture.Name}: batched profiling emulates tensor parallelism within one pipeline stage, not {n} x {stages}; set PipelineStages = 1 (--pipeline-stages 1) with a tensor-parallel degree whose shard fits, or drop the batch sizes.", nameof(plan));
        }

        if (!plan.BatchSizes.Contains(1))
        {
            throw new ArgumentException($"Plan.BatchSizes {string.Join(",", plan.BatchSizes)}: include 1, so the profile's batch-1 model is measured too (e.g. 1,4,16).", nameof(plan));
        }
    }

    /// <summary>
    /// The devices of a real run's ranks, checked before anything is built: <c>N</c> consecutive CUDA devices from the
    /// profiler's, or the CPU for every rank.
    /// </summary>
    /// <exception cref="ArgumentException">A pipeline layout, a mixture of experts, or a batched plan: real runs are single-stage, dense, batch 1.</exception>
    /// <exception cref="InvalidOperationException">Fewer CUDA devices are visible than the layout has ranks.</exception>
    internal string[] RealDevices(TransformerArchitecture architecture, ProfilingPlan plan, int n, int stages, Func<int> visibleCudaDevices)
    {
        if (stages != 1)
        {
            throw new ArgumentException($"{architecture.Name}: real runs are tensor parallel over the GPUs of one machine, but the layout has {stages} pipeline stages; set PipelineStages = 1 (or give --gpus as a tensor-parallel degree), or emulate the pipeline with ParallelExecution.Emulated.", nameof(plan));
        }

        if (architecture.IsMixtureOfExperts)
        {
            throw new ArgumentException($"{architecture.Name} is a mixture of experts; real runs drive dense ranks only. Emulate it (ParallelExecution.Emulated): its rank shard is timed and its collectives modelled.", nameof(architecture));
        }

        if (plan.IsBatched)
        {
            throw new ArgumentException("Real tensor-parallel runs time single queries; drop the plan's batch sizes.", nameof(plan));
        }

        // Parsed here rather than by TorchSharp, so the layout is checked before libtorch loads.
        var device = ProfilerOptions.Device.Trim().ToLowerInvariant();
        if (device != "cuda" && !device.StartsWith("cuda:", StringComparison.Ordinal))
        {
            return Enumerable.Repeat(device, n).ToArray();
        }

        var start = 0;
        if (device != "cuda" && !int.TryParse(device.AsSpan(5), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out start))
        {
            throw new ArgumentException($"TorchProfilerOptions.Device '{ProfilerOptions.Device}' is not a CUDA device; give cuda, cuda:N (the first rank's GPU) or cpu.", nameof(plan));
        }

        var visible = visibleCudaDevices();
        if (start + n > visible)
        {
            throw new InvalidOperationException(FormattableString.Invariant(
                $"Real {n}-way tensor parallelism needs one GPU per rank, cuda:{start} to cuda:{start + n - 1}, but this process sees {visible} CUDA device(s). Run on a machine with {start + n} GPUs (check CUDA_VISIBLE_DEVICES), lower the degree, or emulate the ranks (ParallelExecution.Emulated, the default) on one GPU."));
        }

        return Enumerable.Range(start, n).Select(d => FormattableString.Invariant($"cuda:{d}")).ToArray();
    }

    private ParallelProfile RunReal(TransformerArchitecture architecture, ProfilingPlan plan, int n, int stages, string? outputDirectory, IProgress<ProfilingProgress>? progress, CancellationToken cancellationToken)
    {
        var devices = RealDevices(architecture, plan, n, stages, () => torch.cuda.device_count()).Select(d => torch.device(d)).ToArray();
        var onGpus = devices[0].type == DeviceType.CUDA;
        for (var r = 0; r < n; r++)
        {
            var shard = ModelShard.TensorParallel(n, r);
            if (ProfilerOptions.CheckMemory && onGpus)
            {
                new TorchProfiler(ProfilerOptions with { Shard = shard, Device = devices[r].ToString() }, _profilerLogger).CheckMemory(architecture, shard.Resolve(architecture), plan, devices[r]);
            }
        }

        if (outputDirectory is not null)
        {
            Directory.CreateDirectory(outputDirectory);
        }

        // NCCL is created before the shards are built, so a missing library or a failing init is reported in seconds.
        using ITensorAllReduce allReduce = onGpus ? NcclCommunicator.Create(devices.Select(d => (int)d.index).ToArray()) : new HostAllReduce(n);
        _logger.LogInformation("{Model}: {N}-way tensor parallel for real on {Devices}", architecture.Name, n, string.Join(", ", devices.Select(d => d.ToString()).Distinct()));
        var shards = new List<DecoderTransformer>(n);
        try
        {
            for (var r = 0; r < n; r++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                shards.Add(DecoderTransformer.CreateShard(architecture, ModelShard.TensorParallel(n, r), ProfilerOptions.Model, devices[r]));
            }

            using var decoder = new TensorParallelDecoder(shards, allReduce, plan.CapacityTokens, ProfilerOptions.CudaGraphs);
            var csv = outputDirectory is null ? null : Path.Combine(outputDirectory, ProfileFiles.RealSamplesFileName(architecture, n));
            var profiler = new TorchProfiler(ProfilerOptions with { Shard = ModelShard.TensorParallel(n) }, _profilerLogger);
            var profile = profiler.Run(decoder, plan, csv, progress, cancellationToken);
            var fit = profile.Fit(Options.FitOptions);
            _logger.LogInformation("{Model} {N}-way real: g = {G:F3} ms; R^2 {R2:F5}", architecture.Name, n, fit.PerOutputTokenSeconds * 1e3, fit.RSquared);
            var steps = decoder.UsesCudaGraphs
                ? "each rank's decode step replays as a CUDA graph with its all-reduces captured inside (prefill eager)"
                : $"the ranks' steps are issued eagerly from one host thread, so host dispatch is part of the time ({decoder.EagerReason})";
            var notes = FormattableString.Invariant(
                $"real {n}-way tensor parallel: every rank's shard ran on {string.Join(", ", devices.Select(d => d.ToString()).Distinct())}, all-reduces through {decoder.AllReduceName}; {steps}");
            var model = fit.WithMetadata(fit.Metadata with
            {
                ModelName = architecture.Name,
                AcceleratorCount = onGpus ? n : fit.Metadata.AcceleratorCount,
                Emulated = false,
                Hardware = profile.Hardware,
                Notes = string.IsNullOrEmpty(fit.Metadata.Notes) ? notes : notes + "; " + fit.Metadata.Notes,
            });
            var link = Options.TensorParallelLink ?? Interconnects.ForAccelerator(Options.Accelerator);
            return new ParallelProfile(architecture, n, 1, link, Options.PipelineLink, [profile], [fit], [fit], model) { Execution = ParallelExecution.Real };
        }
        finally
        {
            shards.ForEach(s => s.Dispose());
        }
    }

    /// <summary>
    /// The software of a model composed from stages: the stages' one description, or each stage's where they differ (the
    /// fused decode kernels run only on the stage with the head).
    /// </summary>
    internal static string ComposedSoftware(IReadOnlyList<(int Stage, string Software)> stages) =>
        stages.Select(s => s.Software).Distinct(StringComparer.Ordinal).Count() > 1
            ? string.Join("; ", stages.Select(s => FormattableString.Invariant($"stage {s.Stage}: {s.Software}")))
            : stages[0].Software;

    // Passes a stage's reports on, synchronously, as one count over the whole layout.
    private sealed class StageProgress(IProgress<ProfilingProgress> inner, Func<ProfilingProgress, ProfilingProgress> map) : IProgress<ProfilingProgress>
    {
        public void Report(ProfilingProgress value) => inner.Report(map(value));
    }
}
