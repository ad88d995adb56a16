using System.Diagnostics;
using System.Globalization;
using LlmEff.Cli.Energy;
using LlmEff.Core;
using LlmEff.Core.Serialization;
using LlmEff.Profiling.Torch.Parallelism;
using LlmEff.Profiling.Torch.Profiling;
using TorchSharp;

namespace LlmEff.Cli.Profiling;

/// <summary>
/// Runs a <see cref="TorchProfileRequest"/>: loads libtorch, checks the device, profiles with a live progress line, then
/// fits and writes the runtime model (and the measured energy model when samples carry energy). The only CLI type that
/// touches TorchSharp, so the other commands never load it.
/// </summary>
internal static class TorchProfileRunner
{
    /// <summary>Profiles and writes the outputs; returns the exit code (0, or 130 when cancelled).</summary>
    public static int Run(TorchProfileRequest request, TextWriter output, TextWriter error, bool verbose, CancellationToken cancellationToken)
    {
        EnsureDevice(request.Profiler.Device);
        var layout = request.Parallel is null ? (1, 1) : new ParallelProfiler(request.Profiler, request.Parallel).Layout(request.Architecture, request.Plan);
        if (layout != (1, 1))
        {
            return RunParallel(request, layout, output, error, verbose, cancellationToken);
        }

        EnsureResumable(request);
        Directory.CreateDirectory(request.OutputDirectory);
        var plan = request.Plan;
        error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"profiling {request.Architecture.Name} ({request.Architecture.ParameterCount:N0} parameters, {request.PrecisionName}) on {request.Profiler.Device}: {plan.TotalQueries} timed points, samples in {request.SamplesPath}"));
        var status = new StatusLine(error);
        var progress = Progress(status);

        var profile = Guarded(() => Profile(request, progress, error, status, verbose, cancellationToken), status, error, request.SamplesPath);
        if (profile is null)
        {
            return 130;
        }

        WriteOutputs(request, profile, output);
        return 0;
    }

    /// <summary>
    /// A model laid out over N × S GPUs, profiled from rank-0 shards on this device (ParallelProfiler): one samples file
    /// per stage, resumable, and the composed model with the modelled collectives and emulated provenance.
    /// </summary>
    private static int RunParallel(TorchProfileRequest request, (int TensorParallel, int Stages) layout, TextWriter output, TextWriter error, bool verbose, CancellationToken cancellationToken)
    {
        var inv = CultureInfo.InvariantCulture;
        var (n, stages) = layout;
        Directory.CreateDirectory(request.OutputDirectory);
        var options = request.Parallel! with { TensorParallelDegree = n, PipelineStages = stages, FitOptions = request.FitOptions };
        error.WriteLine(string.Create(inv, $"profiling {request.Architecture.Name} as {n}-way tensor parallel x {stages} stage(s) = {n * stages} GPUs, from rank-0 shards on {request.Profiler.Device}; samples in {request.OutputDirectory}"));
        var status = new StatusLine(error);
        var profiler = new ParallelProfiler(request.Profiler, options, new ErrorStreamLoggerFactory(error, status, verbose));
        var result = Guarded(() => profiler.Run(request.Architecture, request.Plan, request.OutputDirectory, Progress(status), cancellationToken), status, error, request.OutputDirectory);
        if (result is null)
        {
            return 130;
        }

        var path = request.ParallelModelPath(n, stages);
        RuntimeModelJson.Save(result.Model, path);
        output.WriteLine(string.Create(inv, $"{request.Architecture.Name}: {n} x {stages} = {result.AcceleratorCount} GPUs emulated on {result.StageProfiles[0].Hardware}"));
        for (var s = 0; s < stages; s++)
        {
            var shard = result.StageShardModels[s];
            output.WriteLine(string.Create(inv, $"  stage {s}: shard g = {shard.PerOutputTokenSeconds * 1e3:F3} ms, + collectives over {result.TensorParallelLink.Name} = {result.StageModels[s].PerOutputTokenSeconds * 1e3:F3} ms, R² = {shard.RSquared:F4}"));
        }

        output.WriteLine(string.Create(inv, $"whole model: g = {result.Model.PerOutputTokenSeconds * 1e3:F3} ms/token"));
        foreach (var knot in result.Model.PromptEncoding.Knots)
        {
            output.WriteLine(string.Create(inv, $"  PE({knot.X}) = {knot.Y * 1e3:F2} ms"));
        }

        Commands.FitWarnings.Print(output, result.Model);
        output.WriteLine($"model written to {path} (emulated; its notes give the layout and link parameters)");
        return 0;
    }

    /// <summary>
    /// Runs a profile, ending the status line either way. Ctrl-C gives null after saying where the finished points are;
    /// an InvalidOperationException (not enough GPU memory, a samples file of another model or precision) becomes one
    /// error line.
    /// </summary>
    private static T? Guarded<T>(Func<T> run, StatusLine status, TextWriter error, string samplesWhere)
        where T : class
    {
        try
        {
            return run();
        }
        catch (OperationCanceledException)
        {
            status.End();
            error.WriteLine($"llmeff: interrupted; every finished point is in {samplesWhere}; rerun the same command to resume.");
            return null;
        }
        catch (InvalidOperationException ex)
        {
            throw new ArgumentException(OneLine(ex.Message), ex);
        }
        finally
        {
            status.End();
        }
    }

    private static IProgress<ProfilingProgress> Progress(StatusLine status)
    {
        var clock = Stopwatch.StartNew();
        var firstCompleted = -1;
        return new SynchronousProgress<ProfilingProgress>(p =>
        {
            // One status line rewritten in place; the ETA uses only points measured in this run (not the resumed ones),
            // counted from the first report so model build and warm-up do not inflate the rate.
            if (firstCompleted < 0)
            {
                firstCompleted = p.Completed;
                clock.Restart();
            }

            var measured = p.Completed - firstCompleted;
            var rate = measured > 0 ? clock.Elapsed.TotalSeconds / measured : double.NaN;
            var eta = double.IsFinite(rate) ? TimeSpan.FromSeconds(rate * (p.Total - p.Completed)).ToString(@"hh\:mm\:ss", CultureInfo.InvariantCulture) : "--:--:--";
            status.Update(string.Create(CultureInfo.InvariantCulture, $"{Bar(p.Completed, p.Total)} {p.Completed}/{p.Total} points ({p.Resumed} resumed) p={p.Latest.PromptTokens} o={p.Latest.OutputTokens}: {p.Latest.RuntimeSeconds * 1e3:F1} ms  ETA {eta}   "));
        });
    }

    /// <summary>
    /// The profiling call itself. Sharded profiling (<c>--gpus N</c> or <c>--tensor-parallel N --pipeline-stages S</c>) plugs in
    /// here: the request gains the layout and this method picks the sharded profiler; files, progress, fit and energy around
    /// it stay as they are (the provenance's accelerator count comes from the profile's metadata).
    /// </summary>
    private static TorchProfile Profile(TorchProfileRequest request, IProgress<ProfilingProgress> progress, TextWriter error, StatusLine status, bool verbose, CancellationToken cancellationToken)
    {
        // The label is set here so the up-front check (EnsureResumable) and the profiler's own resume check agree.
        var profiler = new TorchProfiler(request.Profiler with { SourceLabel = request.SourceLabel }, new ErrorStreamLogger<TorchProfiler>(error, status, verbose));
        return profiler.Run(request.Architecture, request.Plan, request.SamplesPath, progress, cancellationToken);
    }

    private static void WriteOutputs(TorchProfileRequest request, TorchProfile profile, TextWriter output)
    {
        var inv = CultureInfo.InvariantCulture;
        RuntimeModel model;
        try
        {
            model = profile.Fit(request.FitOptions);
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException)
        {
            throw new ArgumentException($"the {profile.Samples.Count} samples in {request.SamplesPath} could not be fitted: {OneLine(ex.Message)}", ex);
        }

        RuntimeModelJson.Save(model, request.ModelPath);
        output.WriteLine(string.Create(inv, $"{profile.Architecture.Name} on {profile.Hardware}: {profile.Samples.Count} samples ({profile.ResumedSamples} resumed)"));
        output.WriteLine(string.Create(inv, $"g = {model.PerOutputTokenSeconds * 1e3:F3} ms/token, R² = {model.RSquared:F4}"));
        foreach (var knot in model.PromptEncoding.Knots)
        {
            output.WriteLine(string.Create(inv, $"  PE({knot.X}) = {knot.Y * 1e3:F2} ms"));
        }

        // Only a fit kept with --keep-non-physical has warnings; on a GPU they mean noisy timings (a shared or busy device, no warm-up).
        Commands.FitWarnings.Print(output, model);

        output.WriteLine($"samples: {request.SamplesPath}");
        output.WriteLine($"model written to {request.ModelPath}");
        var metadata = profile.ToMetadata();
        var energy = Commands.FitWarnings.EnergyFit(request.SamplesPath, () => MeasuredEnergyJson.FitOrNull(profile.Samples, request.FitOptions with { Metadata = metadata }, profile.IdlePowerWatts, profile.BoardPowerWatts, profile.EnergyCounterIntervalSeconds));
        if (energy is null)
        {
            output.WriteLine(request.Profiler.MeasureEnergy ? "energy: not measured (needs a CUDA GPU with NVML's energy counter)" : "energy: not measured (--no-energy)");
            return;
        }

        var energyPath = MeasuredEnergy.CompanionPath(request.ModelPath);
        MeasuredEnergyJson.Save(energy, energyPath);
        Commands.FitWarnings.Print(output, energy.Joules, "energy model");
        output.Write(string.Create(inv, $"energy: e = {energy.PerOutputTokenJoules:F3} J/output token, R² = {energy.Joules.RSquared:F4}"));
        if (energy.BoardPowerWatts is { } board)
        {
            var idealized = model.PerOutputTokenSeconds * board;
            output.Write(string.Create(inv, $"; idealized t × W = {idealized:F3} J/token at {board:F0} W, measured/idealized = {energy.PerOutputTokenJoules / idealized:F3}"));
        }

        output.WriteLine();
        var knots = model.PromptEncoding.Knots;
        if (knots.Count >= 2)
        {
            // Per prompt token: the slope of E_pe and PE between the two largest profiled prompt sizes (compute-bound prefill).
            int p0 = (int)knots[^2].X, p1 = (int)knots[^1].X;
            var measuredPrompt = (energy.Joules.PromptEncodingSeconds(p1) - energy.Joules.PromptEncodingSeconds(p0)) / (p1 - p0);
            output.Write(string.Create(inv, $"energy per prompt token (p = {p0} to {p1}): {measuredPrompt:F4} J"));
            if (energy.BoardPowerWatts is { } w)
            {
                var idealizedPrompt = (model.PromptEncodingSeconds(p1) - model.PromptEncodingSeconds(p0)) / (p1 - p0) * w;
                output.Write(string.Create(inv, $"; idealized {idealizedPrompt:F4} J, measured/idealized = {measuredPrompt / idealizedPrompt:F3}"));
            }

            output.WriteLine();
        }

        if (energy.IdlePowerWatts is { } idle)
        {
            output.WriteLine(string.Create(inv, $"idle power {idle:F1} W: idle share of e = {idle * model.PerOutputTokenSeconds:F3} J, dynamic = {energy.PerOutputTokenJoules - (idle * model.PerOutputTokenSeconds):F3} J per output token"));
        }

        output.WriteLine($"energy model written to {energyPath}");
    }

    /// <summary>Refuses up front to append to a samples file of another model or precision (the profiler would refuse later).</summary>
    private static void EnsureResumable(TorchProfileRequest request)
    {
        if (!File.Exists(request.SamplesPath) || new FileInfo(request.SamplesPath).Length == 0)
        {
            return;
        }

        var foreign = ProfilingSampleCsv.ReadFile(request.SamplesPath).FirstOrDefault(s => s.Source != request.SourceLabel);
        if (foreign is not null)
        {
            throw new ArgumentException($"{request.SamplesPath} holds samples of '{foreign.Source}', not '{request.SourceLabel}'; resume only with the same model and --precision, or choose another --out folder.");
        }
    }

    /// <summary>Loads libtorch and checks the requested device exists, failing with one clear line otherwise.</summary>
    private static void EnsureDevice(string device)
    {
        // When libtorch is missing TorchSharp prints a long loader trace to the console; the one-line error below replaces it.
        var (stdout, stderr) = (Console.Out, Console.Error);
        try
        {
            Console.SetOut(TextWriter.Null);
            Console.SetError(TextWriter.Null);
            torch.InitializeDeviceType(DeviceType.CPU);
        }
        catch (Exception ex) when (ex is DllNotFoundException or TypeInitializationException or NotSupportedException or InvalidOperationException)
        {
            throw new NotSupportedException("libtorch could not be loaded: the tool ships TorchSharp without libtorch; put a PyTorch install's torch/lib on LD_LIBRARY_PATH (docs/gpu-profiling.md, \"Using an existing PyTorch install's libtorch\").", ex);
        }
        finally
        {
            Console.SetOut(stdout);
            Console.SetError(stderr);
        }

        if (!device.StartsWith("cuda", StringComparison.Ordinal))
        {
            return;
        }

        if (!torch.cuda.is_available())
        {
            throw new NotSupportedException($"--device {device}: CUDA is not available (no NVIDIA GPU or driver, or a CPU-only libtorch); use --device cpu, or run on a GPU machine with a CUDA libtorch.");
        }

        var colon = device.IndexOf(':', StringComparison.Ordinal);
        var index = colon < 0 ? 0 : int.Parse(device[(colon + 1)..], CultureInfo.InvariantCulture);
        var count = torch.cuda.device_count();
        if (index >= count)
        {
            throw new ArgumentException($"--device {device}: this machine has {count} CUDA device(s), cuda:0 to cuda:{count - 1}.");
        }
    }

    private static string Bar(int done, int total)
    {
        const int Width = 24;
        var filled = total == 0 ? Width : (int)Math.Round(Width * (double)done / total);
        return "[" + new string('#', filled) + new string('.', Width - filled) + "]";
    }

    private static string OneLine(string message) => message.ReplaceLineEndings(" ");

    private sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
