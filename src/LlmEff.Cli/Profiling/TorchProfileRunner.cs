using System.Diagnostics;
using System.Globalization;
using LlmEff.Profiling.Torch;
using TorchSharp;

namespace LlmEff.Cli.Profiling;

/// <summary>
/// Runs <c>llmeff profile torch</c>: loads libtorch, checks the device, then hands the run to
/// <see cref="TorchProfiler.ProfileToFolderAsync"/> (profile, resume, fits, files) with a live progress line, and prints what
/// it measured. The only CLI type that touches TorchSharp, so the other commands never load it.
/// </summary>
internal static class TorchProfileRunner
{
    /// <summary>Profiles and writes the outputs; returns the exit code (0, or 130 when cancelled).</summary>
    public static async Task<int> RunAsync(ProfileFolderOptions options, TextWriter output, TextWriter error, bool verbose, CancellationToken cancellationToken)
    {
        EnsureDevice(options.Profiler.Device);
        var inv = CultureInfo.InvariantCulture;
        var architecture = options.Architecture;
        var status = new StatusLine(error);
        ProfileFolderResult result;
        try
        {
            // The call checks the layout and the samples file before it starts, so those errors come before the header.
            var run = TorchProfiler.ProfileToFolderAsync(options, Progress(status), new ErrorStreamLoggerFactory(error, status, verbose), cancellationToken);
            error.WriteLine(string.Create(inv, $"profiling {architecture.Name} ({architecture.ParameterCount:N0} parameters, {options.Profiler.Model.Precision.ShortName()}) on {options.Profiler.Device}: {options.Plan.TotalQueries} timed points per shard, samples in {options.OutputDirectory}"));
            result = await run.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            status.End();
            error.WriteLine($"llmeff: interrupted; every finished point is in {options.OutputDirectory}; rerun the same command to resume.");
            return 130;
        }
        catch (InvalidOperationException ex)
        {
            // Not enough GPU memory, a samples file of another model or precision, samples that cannot be fitted: one line.
            throw new ArgumentException(OneLine(ex.Message), ex);
        }
        catch (ArgumentOutOfRangeException ex)
        {
            // Without the "(Parameter 'PipelineStages')" and "Actual value" lines the library appends.
            throw new ArgumentException(LlmEffCommand.Describe(ex), ex);
        }
        finally
        {
            status.End();
        }

        if (result.Parallel is { } parallel)
        {
            WriteParallel(result, parallel, output);
        }
        else
        {
            WriteSingle(result, result.Profile!, options.Profiler.MeasureEnergy, output);
        }

        if (result.BatchedModel is { } batched)
        {
            output.WriteLine(string.Create(inv, $"batched model, b = {string.Join(",", batched.ProfiledBatchSizes)}: fit error {batched.FitError?.ToString() ?? "n/a"}; leave-one-batch-size-out {batched.LeaveOneBatchSizeOutError?.ToString() ?? "n/a (needs 3 batch sizes)"}"));
            output.WriteLine($"batched model written to {result.BatchedModelPath} (llmeff estimate --batch B --model FILE, llmeff plot batching FILE)");
        }

        return 0;
    }

    private static void WriteParallel(ProfileFolderResult result, ParallelProfile parallel, TextWriter output)
    {
        var inv = CultureInfo.InvariantCulture;
        if (parallel.Execution == ParallelExecution.Real)
        {
            output.WriteLine(string.Create(inv, $"{result.Architecture.Name}: {result.TensorParallelDegree}-way tensor parallel for real on {parallel.StageProfiles[0].Hardware}; {result.SampleCount} samples ({result.ResumedSamples} resumed)"));
            output.WriteLine(string.Create(inv, $"g = {result.Model.PerOutputTokenSeconds * 1e3:F3} ms/token (collectives measured, not modelled), R² = {result.Model.RSquared:F4}"));
            WriteKnotsAndWarnings(result.Model, output);
            output.WriteLine($"model written to {result.ModelPath} (real ranks; its notes say how they ran)");
            return;
        }

        output.WriteLine(string.Create(inv, $"{result.Architecture.Name}: {result.TensorParallelDegree} x {result.PipelineStages} = {result.AcceleratorCount} GPUs emulated on {parallel.StageProfiles[0].Hardware}; {result.SampleCount} samples ({result.ResumedSamples} resumed)"));
        for (var s = 0; s < result.PipelineStages; s++)
        {
            var shard = parallel.StageShardModels[s];
            output.WriteLine(string.Create(inv, $"  stage {s}: shard g = {shard.PerOutputTokenSeconds * 1e3:F3} ms, + collectives over {parallel.TensorParallelLink.Name} = {parallel.StageModels[s].PerOutputTokenSeconds * 1e3:F3} ms, R² = {shard.RSquared:F4}"));
        }

        output.WriteLine(string.Create(inv, $"whole model: g = {result.Model.PerOutputTokenSeconds * 1e3:F3} ms/token"));
        WriteKnotsAndWarnings(result.Model, output);
        output.WriteLine($"model written to {result.ModelPath} (emulated; its notes give the layout and link parameters)");
    }

    // The PE knots, then the fit's warnings: only a fit kept with --keep-non-physical has any; on a GPU they mean noisy
    // timings (a shared or busy device, no warm-up).
    private static void WriteKnotsAndWarnings(LlmEff.Core.RuntimeModel model, TextWriter output)
    {
        foreach (var knot in model.PromptEncoding.Knots)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  PE({knot.X}) = {knot.Y * 1e3:F2} ms"));
        }

        Commands.FitWarnings.Print(output, model);
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

    private static void WriteSingle(ProfileFolderResult result, TorchProfile profile, bool measureEnergy, TextWriter output)
    {
        var inv = CultureInfo.InvariantCulture;
        var model = result.Model;
        output.WriteLine(string.Create(inv, $"{profile.Architecture.Name} on {profile.Hardware}: {profile.Samples.Count} samples ({profile.ResumedSamples} resumed)"));
        output.WriteLine(string.Create(inv, $"g = {model.PerOutputTokenSeconds * 1e3:F3} ms/token, R² = {model.RSquared:F4}"));
        WriteKnotsAndWarnings(model, output);

        if (result.Assessment is { } assessment)
        {
            output.WriteLine(Commands.AdaptiveEstimateLine.Describe(assessment, "query"));
        }

        output.WriteLine($"samples: {result.SamplesPaths[0]}");
        output.WriteLine($"model written to {result.ModelPath}");
        if (result.Energy is not { } energy)
        {
            output.WriteLine(measureEnergy ? "energy: not measured (needs a CUDA GPU with NVML's energy counter)" : "energy: not measured (--no-energy)");
            return;
        }

        output.Write(string.Create(inv, $"energy: e = {energy.PerOutputTokenJoules:F3} J/output token, R² = {energy.RSquared:F4}"));
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
            var measuredPrompt = (energy.PredictPromptEncodingJoules(p1) - energy.PredictPromptEncodingJoules(p0)) / (p1 - p0);
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

        output.WriteLine($"energy model written to {result.EnergyModelPath}");
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
