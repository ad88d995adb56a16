using System.Diagnostics;
using LlmEff.Core;
using LlmEff.Core.Architecture;
using LlmEff.Core.Serialization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TorchSharp;
using static TorchSharp.torch;

namespace LlmEff.Profiling.Torch;

/// <summary>
/// Measures idealized runtimes (paper §3.2, §3.4): builds a random-weight decoder, then times greedy generation for every
/// point of a <see cref="ProfilingPlan"/> with <c>cuda.synchronize()</c> around a stopwatch (model construction and
/// prompt creation are not timed). Samples are appended to a CSV as they are measured; rerunning with the same file
/// skips the (p, o, trial) points already there, when the setup recorded beside it (architecture shape, device, shard,
/// seeds) is this run's.
/// </summary>
public sealed partial class TorchProfiler
{
    private readonly ILogger _logger;

    /// <summary>Creates a profiler.</summary>
    public TorchProfiler(TorchProfilerOptions? options = null, ILogger<TorchProfiler>? logger = null)
    {
        Options = CheckOptions(options ?? TorchProfilerOptions.Default, nameof(options));
        _logger = (ILogger?)logger ?? NullLogger<TorchProfiler>.Instance;
    }

    /// <summary>The options in use.</summary>
    public TorchProfilerOptions Options { get; }

    /// <summary>
    /// Checks the options a profiler would refuse, so a folder run refuses them before it starts rather than on its
    /// profiling thread; <paramref name="paramName"/> names the argument that holds them.
    /// </summary>
    /// <exception cref="ArgumentException">An option that is out of range or missing; the message names it and the fix.</exception>
    internal static TorchProfilerOptions CheckOptions(TorchProfilerOptions options, string paramName)
    {
        if (options.Model is null)
        {
            throw new ArgumentException("TorchProfilerOptions.Model is null; leave it at DecoderOptions.Default or set the precision and seed.", paramName);
        }

        options.Model.Validate();
        if (string.IsNullOrWhiteSpace(options.Device))
        {
            throw new ArgumentException("TorchProfilerOptions.Device is empty; give a TorchSharp device: cuda, cuda:N or cpu.", paramName);
        }

        if (options.Shard is null)
        {
            throw new ArgumentException("TorchProfilerOptions.Shard is null; leave it at ModelShard.Full for the whole model.", paramName);
        }

        if (options.IdleBeforeEachQuery < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(paramName, options.IdleBeforeEachQuery, "TorchProfilerOptions.IdleBeforeEachQuery is negative; use TimeSpan.Zero to time the grid back to back, or a positive idle time (0.5 s lets the GPU settle after a heavy prefill).");
        }

        if (options.PrefillGraphMaxTokens < 0)
        {
            throw new ArgumentOutOfRangeException(paramName, options.PrefillGraphMaxTokens, "TorchProfilerOptions.PrefillGraphMaxTokens is negative; use 0 to interpret every prefill, or a prompt size up to which prefill is replayed as a CUDA graph (default 512).");
        }

        if (options.TimeProvider is null)
        {
            throw new ArgumentException("TorchProfilerOptions.TimeProvider is null; leave it at TimeProvider.System unless a test passes a fake clock.", paramName);
        }

        // Checked here, not at the first energy measurement after the model is built and warmed up.
        if (options.EnergyWindowIntervals < 1)
        {
            throw new ArgumentOutOfRangeException(paramName, options.EnergyWindowIntervals, "TorchProfilerOptions.EnergyWindowIntervals must be 1 or more (default 10: a measurement spans ten counter updates).");
        }

        if (options.EnergyTrials < 0)
        {
            throw new ArgumentOutOfRangeException(paramName, options.EnergyTrials, "TorchProfilerOptions.EnergyTrials must be 0 (no energy) or more (default 1: the first trial's points).");
        }

        if (options.ReusableMemoryBytes < 0)
        {
            throw new ArgumentOutOfRangeException(paramName, options.ReusableMemoryBytes, "TorchProfilerOptions.ReusableMemoryBytes is negative; leave it at 0 unless this process has already released a model.");
        }

        return options;
    }

    /// <summary>
    /// Profiles a model into a folder in one call: the whole model on one device, or an emulated tensor/pipeline layout from
    /// rank-0 shards (<see cref="ProfileFolderOptions.Parallel"/>). Samples are appended to the folder's samples file(s) as
    /// they are measured, so a rerun with the same options resumes where an interrupted one stopped; then the runtime model
    /// is fitted with the run's provenance and written, and, when the samples carry energy, the <see cref="Core.Energy.EnergyModel"/>
    /// beside it. File names come from <see cref="ProfileFiles"/>. The work runs on a dedicated thread, so every TorchSharp
    /// call of the run shares one thread's state.
    /// </summary>
    /// <param name="options">What to profile and where; see <see cref="ProfileFolderOptions"/> for the defaults.</param>
    /// <param name="progress">Receives a report after every measured point; null for none. Called on the profiling thread.</param>
    /// <param name="loggers">Creates the loggers of the profilers and fits; null for <see cref="NullLoggerFactory.Instance"/>.</param>
    /// <param name="cancellationToken">Stops between points; every finished point stays in the samples file.</param>
    /// <returns>The fitted models, where they were written, and the profile(s) behind them.</returns>
    /// <exception cref="ArgumentException">Invalid options (the message names the property and the fix); thrown before the task starts.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A layout that does not fit the architecture; thrown before the task starts.</exception>
    /// <exception cref="InvalidOperationException">The samples file holds another model, precision or setup (architecture shape, device, seeds), or must not be resumed (thrown before the task starts); or the samples could not be fitted.</exception>
    /// <exception cref="InsufficientGpuMemoryException">The model (or a shard) does not fit the GPU; the message says how to split it.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public static Task<ProfileFolderResult> ProfileToFolderAsync(ProfileFolderOptions options, IProgress<ProfilingProgress>? progress = null, ILoggerFactory? loggers = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        loggers ??= NullLoggerFactory.Instance;
        // The checks that need no model throw here, before the task starts, so a caller can report them before any output.
        var layout = ProfileFolderRun.Prepare(options, loggers);
        return Task.Factory.StartNew(
            () => ProfileFolderRun.Run(options, layout, progress, loggers, cancellationToken),
            cancellationToken,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);
    }

    /// <summary>
    /// Builds <paramref name="architecture"/> (or the <see cref="TorchProfilerOptions.Shard"/> of it) on the configured
    /// device, after the memory check, and profiles it.
    /// </summary>
    /// <exception cref="InsufficientGpuMemoryException">The model (or shard) does not fit the GPU.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The shard does not fit the architecture; the message names the valid degrees.</exception>
    public TorchProfile Run(TransformerArchitecture architecture, ProfilingPlan plan, string? samplesPath = null, IProgress<ProfilingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        ArgumentNullException.ThrowIfNull(plan);
        plan.Validate();
        architecture.Validate();
        var shape = Options.Shard.Resolve(architecture);
        if (plan.IsBatched && BatchedGreedyDecoder.UnsupportedReason(architecture) is { } unsupported)
        {
            throw new NotSupportedException($"{unsupported} Profile it at batch size 1 (leave --batch-sizes out).");
        }

        var device = torch.device(Options.Device);
        if (Options.CheckMemory)
        {
            CheckMemory(architecture, shape, plan, device);
        }

        var build = Stopwatch.StartNew();
        using var model = DecoderTransformer.CreateShard(architecture, Options.Shard, Options.Model, device);
        if (plan.IsBatched)
        {
            using var batched = new BatchedGreedyDecoder(model, plan.CapacityTokens, plan.BatchSizes, Options.CudaGraphs);
            Synchronize(device);
            _logger.LogInformation("Built {Model} {Shard}({Parameters} parameters, {Precision}) on {Device} in {Seconds:F1} s; batch sizes {Batches}; decode steps {Graphs}", architecture.Name, Describe(shape), shape.ParameterCount(architecture), Options.Model.Precision, device, build.Elapsed.TotalSeconds, string.Join(",", plan.BatchSizes), batched.UsesCudaGraphs ? "replay CUDA graphs" : "run interpreted");
            return Run(batched, plan, samplesPath, progress, cancellationToken);
        }

        using var decoder = new GreedyDecoder(model, plan.CapacityTokens, Options.CudaGraphs, GreedyDecoder.DefaultWindowTokens, prefillGraphMaxTokens: Options.PrefillGraphMaxTokens);
        Synchronize(device);
        _logger.LogInformation("Built {Model} {Shard}({Parameters} parameters, {Precision}) on {Device} in {Seconds:F1} s; decode steps {Graphs}; {Prefill}", architecture.Name, Describe(shape), shape.ParameterCount(architecture), Options.Model.Precision, device, build.Elapsed.TotalSeconds, decoder.UsesFusedKernels ? "replay CUDA graphs with fused kernels" : decoder.UsesCudaGraphs ? "replay CUDA graphs" : "run eagerly", decoder.PrefillGraphMaxTokens > 0 ? $"prefill of prompts up to {decoder.PrefillGraphMaxTokens} tokens replays CUDA graphs" : "prefill interpreted");
        return Run(decoder, plan, samplesPath, progress, cancellationToken);
    }

    /// <summary>Profiles an already built model; the decoder's cache must hold <see cref="ProfilingPlan.CapacityTokens"/>.</summary>
    public TorchProfile Run(GreedyDecoder decoder, ProfilingPlan plan, string? samplesPath = null, IProgress<ProfilingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(decoder);
        CheckPlan(plan, decoder.CapacityTokens, "GreedyDecoder(model, plan.CapacityTokens)");

        var model = decoder.Model;
        var setup = SetupOf(model, plan);
        var meter = OpenEnergyMeter(model.Device);
        var query = new QueryRunner(model, [model.Device], (prompt, o) => decoder.Generate(prompt, o)) { Prepare = decoder.PreparePrefill };
        Func<Tensor, int, double, double>? energy = meter is null ? null : (prompt, o, seconds) => MeasureEnergy(meter, decoder, prompt, o, seconds);
        return RunQueries(query, setup, plan, samplesPath, meter, energy, DescribeSoftware(model.Precision, decoder.UsesCudaGraphs, decoder.UsesFusedKernels, decoder.AttentionForms, decoder.UsesExpertKernels, decoder.PrefillGraphMaxTokens), progress, cancellationToken);
    }

    /// <summary>
    /// Profiles a model running for real over its tensor-parallel ranks: every query runs on all ranks, and the stopwatch
    /// stops when every rank's device is done. The samples' source label ends in <c>:tpN-real</c>. Energy is not measured
    /// (NVML would have to be read on every rank's GPU at once).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The decoder's cache is smaller than the plan needs.</exception>
    /// <exception cref="InvalidOperationException">The samples file holds another model, precision or layout.</exception>
    public TorchProfile Run(TensorParallelDecoder decoder, ProfilingPlan plan, string? samplesPath = null, IProgress<ProfilingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(decoder);
        CheckPlan(plan, decoder.CapacityTokens, "TensorParallelDecoder(shards, allReduce, plan.CapacityTokens)");

        if (plan.IsBatched)
        {
            throw new ArgumentException("Real tensor-parallel runs time single queries; drop the plan's batch sizes.", nameof(plan));
        }

        var shards = decoder.Shards;
        var model = shards[0];
        var setup = SamplesSetup.Of(Options.SourceLabel ?? RealSourceLabel(model.Architecture, model.Precision, decoder.Ranks), model.Architecture, model.Precision, RealShardName(decoder.Ranks), model.Device.ToString(), model.Options.Seed, plan.Seed, SamplesSetup.EngineOf(Options, model.Options));
        var query = new QueryRunner(model, shards.Select(s => s.Device).ToArray(), decoder.Generate);
        var software = DescribeSoftware(model.Precision) + $", {decoder.Ranks} ranks driven from one host thread, {(decoder.UsesCudaGraphs ? "captured CUDA-graph steps" : "eager steps")}, all-reduce through {decoder.AllReduceName}";
        var profile = RunQueries(query, setup, plan, samplesPath, meter: null, energy: null, software, progress, cancellationToken);
        var devices = string.Join(", ", shards.Select(s => s.Device.ToString()).Distinct());
        // No shard: the profile times the whole model over its ranks, collectives included.
        return profile with { Hardware = $"{DescribeHardware(model.Device)}; {decoder.Ranks} ranks on {devices}", Shard = null };
    }

    /// <summary>The samples' source label of a real N-way run, also checked by a folder run before anything is built.</summary>
    internal static string RealSourceLabel(TransformerArchitecture architecture, ModelPrecision precision, int ranks)
        => $"torchsharp:{architecture.Name}:{precision.ShortName()}:{RealShardName(ranks)}";

    /// <summary>The samples' source label of one shard (or the whole model) on one device: <c>torchsharp:&lt;model&gt;:&lt;dtype&gt;[:tpNrR:ppSsT]</c>.</summary>
    internal static string SourceLabel(TransformerArchitecture architecture, ModelPrecision precision, ModelShard shard)
        => $"torchsharp:{architecture.Name}:{precision.ShortName()}{(shard.IsFull ? string.Empty : ":" + SamplesSetup.ShardName(shard))}";

    /// <summary>The setup a samples file of a one-device run records, also checked by a folder run before anything is built.</summary>
    internal static SamplesSetup SetupOf(TorchProfilerOptions options, TransformerArchitecture architecture, ModelShard shard, ProfilingPlan plan)
        => SamplesSetup.Of(options.SourceLabel ?? SourceLabel(architecture, options.Model.Precision, shard), architecture, options.Model.Precision, SamplesSetup.ShardName(shard), options.Device, options.Model.Seed, plan.Seed, SamplesSetup.EngineOf(options));

    /// <summary>The setup of a real N-way run, also checked by a folder run before anything is built.</summary>
    internal static SamplesSetup RealSetupOf(TorchProfilerOptions options, TransformerArchitecture architecture, int ranks, ProfilingPlan plan)
        => SamplesSetup.Of(options.SourceLabel ?? RealSourceLabel(architecture, options.Model.Precision, ranks), architecture, options.Model.Precision, RealShardName(ranks), options.Device, options.Model.Seed, plan.Seed, SamplesSetup.EngineOf(options));

    private static string RealShardName(int ranks) => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"tp{ranks}-real");

    // The setup of samples timed on a built model: its own shard, device and weights seed.
    private SamplesSetup SetupOf(DecoderTransformer model, ProfilingPlan plan)
        => SamplesSetup.Of(Options.SourceLabel ?? SourceLabel(model.Architecture, model.Precision, model.Shape.Shard), model.Architecture, model.Precision, SamplesSetup.ShardName(model.Shape.Shard), model.Device.ToString(), model.Options.Seed, plan.Seed, SamplesSetup.EngineOf(Options, model.Options));

    // The plan is valid and the decoder's KV cache holds its longest query; `create` says how to build one that does.
    private static void CheckPlan(ProfilingPlan plan, int decoderCapacityTokens, string create)
    {
        ArgumentNullException.ThrowIfNull(plan);
        plan.Validate();
        if (decoderCapacityTokens < plan.CapacityTokens)
        {
            throw new ArgumentOutOfRangeException(nameof(plan), plan.CapacityTokens, $"The plan needs a KV cache of {plan.CapacityTokens} tokens but the decoder holds {decoderCapacityTokens}; create it with {create}.");
        }
    }

    /// <summary>A batch-1 query runner: the model whose prompts it takes, the devices to synchronise, and the generation.</summary>
    private sealed record QueryRunner(DecoderTransformer Model, IReadOnlyList<Device> Devices, Func<Tensor, int, Tensor> Generate)
    {
        /// <summary>Untimed work before a query of p prompt tokens (capturing its prefill graph), or null.</summary>
        public Action<int>? Prepare { get; init; }

        public double Time(Tensor prompt, int outputTokens)
        {
            Prepare?.Invoke((int)prompt.shape[1]);
            return TimeSynchronized(Devices, () => Generate(prompt, outputTokens));
        }
    }

    /// <summary>The batch-1 profiling loop shared by one device and real tensor-parallel ranks: resume, warm-up, timing, energy, progress.</summary>
    private TorchProfile RunQueries(QueryRunner query, SamplesSetup setup, ProfilingPlan plan, string? samplesPath, GpuEnergyMeter? meter, Func<Tensor, int, double, double>? energy, string software, IProgress<ProfilingProgress>? progress, CancellationToken cancellationToken)
    {
        var model = query.Model;
        var label = setup.Source;
        var done = new Dictionary<(int P, int O, int Trial), ProfilingSample>();
        if (samplesPath is not null)
        {
            foreach (var s in setup.Resume(samplesPath, _logger))
            {
                // A batched run writes to the same file under the same label: its rows are not batch-1 points. Each point is
                // written once; should one appear twice, the first stands.
                if ((s.BatchSize ?? 1) == 1)
                {
                    done.TryAdd((s.PromptTokens, s.OutputTokens, s.Trial ?? 0), s);
                }
            }
        }

        // A grid's points are known up front; an adaptive plan's are the planner's, so its resumed count is what the file
        // holds at the candidates.
        var points = plan.IsAdaptive ? null : plan.Points().ToList();
        var resumed = points?.Count(done.ContainsKey) ?? done.Keys.Count(k => plan.IsCandidate(k.P, k.O));
        double? idleWatts = null;
        using var writer = samplesPath is null ? null : ProfilingSampleCsvWriter.OpenAppend(samplesPath);
        var samples = points is null
            ? done.Where(d => plan.IsCandidate(d.Key.P, d.Key.O)).Select(d => d.Value).ToList()
            : points.Where(done.ContainsKey).Select(pt => done[pt]).ToList();
        _logger.LogInformation("Profiling {Model}: {Total} points ({Resumed} resumed from {Path})", model.Architecture.Name, plan.TotalQueries, resumed, samplesPath ?? "(no file)");
        var started = false;
        var completed = resumed;
        if (points is null)
        {
            RunAdaptive(plan, done, Time, cancellationToken);
        }
        else
        {
            foreach (var (p, o, trial) in points)
            {
                if (!done.ContainsKey((p, o, trial)))
                {
                    Time(p, o, trial);
                }
            }
        }

        return new TorchProfile(model.Architecture, model.Precision, plan, samples, DescribeHardware(model.Device), software, Options.TimeProvider.GetUtcNow())
        {
            ResumedSamples = resumed,
            SamplesPath = samplesPath,
            Shard = model.Shape,
            IdleBeforeEachQuery = Options.IdleBeforeEachQuery,
            IdlePowerWatts = idleWatts,
            EnergyCounterIntervalSeconds = meter?.CounterIntervalSeconds,
            EnergyCounterResolutionJoules = meter is null ? null : GpuEnergyMeter.CounterResolutionJoules,
            BoardPowerWatts = meter?.Gpu.PowerLimitWatts(),
        };

        // Times one point and records it everywhere at once (file, samples, progress); the idle power and the warm-up come
        // before the first point this run times, so a run with nothing left to time builds nothing more than the model.
        ProfilingSample Time(int p, int o, int trial)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (!started)
            {
                started = true;
                if (meter is not null)
                {
                    Synchronize(model.Device);
                    idleWatts = meter.AveragePowerWatts(1.0);
                    _logger.LogInformation("Energy: NVML counter updates every {Interval:F4} s; idle power {Idle:F1} W", meter.CounterIntervalSeconds, idleWatts);
                }

                Warmup(query, plan, cancellationToken);
            }

            using var prompt = RandomPrompt(model, p, plan.Seed, trial);
            IdleBeforeQuery(cancellationToken);
            var seconds = query.Time(prompt, o);
            double? joules = energy is not null && trial < Options.EnergyTrials ? energy(prompt, o, seconds) : null;
            var sample = new ProfilingSample(p, o, seconds) { Trial = trial, Source = label, EnergyJoules = joules };
            writer?.Write(sample);
            samples.Add(sample);
            done[(p, o, trial)] = sample;
            completed++;
            _logger.LogDebug("p={Prompt} o={Output} trial={Trial}: {Seconds:F6} s", p, o, trial, seconds);
            progress?.Report(new ProfilingProgress(completed, plan.TotalQueries, resumed, sample));
            return sample;
        }
    }

    /// <summary>Waits <see cref="TorchProfilerOptions.IdleBeforeEachQuery"/> on the options' clock (nothing when zero).</summary>
    private void IdleBeforeQuery(CancellationToken cancellationToken)
    {
        if (Options.IdleBeforeEachQuery > TimeSpan.Zero)
        {
            Task.Delay(Options.IdleBeforeEachQuery, Options.TimeProvider, cancellationToken).GetAwaiter().GetResult();
        }
    }

    private void Warmup(QueryRunner query, ProfilingPlan plan, CancellationToken cancellationToken)
    {
        var sw = Stopwatch.StartNew();
        for (var r = 0; r < plan.WarmupRuns; r++)
        {
            foreach (var p in plan.WarmupPromptTokens)
            {
                cancellationToken.ThrowIfCancellationRequested();
                using var prompt = RandomPrompt(query.Model, p, plan.Seed, -1 - r);
                query.Time(prompt, plan.MaxOutputTokens);
            }
        }

        _logger.LogInformation("Warm-up: {Runs} run(s) per prompt size in {Seconds:F1} s", plan.WarmupRuns, sw.Elapsed.TotalSeconds);
    }
}
