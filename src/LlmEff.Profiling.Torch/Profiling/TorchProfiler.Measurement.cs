using System.Diagnostics;
using Microsoft.Extensions.Logging;
using TorchSharp;
using static TorchSharp.torch;

namespace LlmEff.Profiling.Torch;

/// <summary>The measurements themselves: synchronised timing of a query or batch on any number of devices, seeded prompts, and a query's energy.</summary>
public sealed partial class TorchProfiler
{
    /// <summary>Seconds to generate <paramref name="outputTokens"/> tokens for every prompt of the batch <paramref name="prompts"/> <c>[b, p]</c>, synchronised as <see cref="TimeQuery"/>.</summary>
    public static double TimeBatch(BatchedGreedyDecoder decoder, Tensor prompts, int outputTokens)
    {
        ArgumentNullException.ThrowIfNull(decoder);
        return TimeSynchronized([decoder.Model.Device], () => decoder.Generate(prompts, outputTokens));
    }

    /// <summary>Random prompt ids <c>[b, p]</c> on the model's device, the same for the same (seed, b, p, trial); row 0 is <see cref="RandomPrompt"/>'s ids when <c>b = 1</c>.</summary>
    public static Tensor RandomPrompts(DecoderTransformer model, int batchSize, int promptTokens, long seed, int trial)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(promptTokens, 1);
        TorchBackend.Ensure(CPU);
        using var generator = new Generator((ulong)unchecked((seed * 1_000_003) + (promptTokens * 7919L) + trial + ((batchSize - 1) * 104_729L)));
        using var ids = randint(0, model.Architecture.VocabularySize, [batchSize, promptTokens], ScalarType.Int64, CPU, generator: generator);
        return model.Device.type is DeviceType.META or DeviceType.CPU ? ids.clone() : ids.to(model.Device);
    }

    /// <summary>
    /// Energy of one query in joules: the query is run back to back until the runs span
    /// <see cref="TorchProfilerOptions.EnergyWindowIntervals"/> counter updates, and the counter's difference is divided
    /// by the repetitions. Separate from the timed run, so timing is never disturbed.
    /// </summary>
    public double MeasureEnergy(GpuEnergyMeter meter, GreedyDecoder decoder, Tensor prompt, int outputTokens, double querySeconds)
    {
        ArgumentNullException.ThrowIfNull(meter);
        ArgumentNullException.ThrowIfNull(decoder);
        var repeats = meter.RepeatsFor(querySeconds, Options.EnergyWindowIntervals);
        var device = decoder.Model.Device;
        Synchronize(device);
        var e0 = meter.ReadJoules();
        for (var r = 0; r < repeats; r++)
        {
            using var output = decoder.Generate(prompt, outputTokens);
        }

        Synchronize(device);
        return (meter.ReadJoules() - e0) / repeats;
    }

    private GpuEnergyMeter? OpenEnergyMeter(Device device)
    {
        if (!Options.MeasureEnergy)
        {
            return null;
        }

        if (device.type != DeviceType.CUDA)
        {
            _logger.LogInformation("Energy is measured on CUDA GPUs only; profiling {Device} without energy.", device);
            return null;
        }

        var meter = GpuEnergyMeter.TryOpen(Math.Max(0, device.index), out var reason);
        if (meter is null)
        {
            _logger.LogWarning("{Reason}", reason);
        }

        return meter;
    }

    /// <summary>
    /// Seconds to generate <paramref name="outputTokens"/> tokens after <paramref name="prompt"/>: the device is synchronised
    /// before the stopwatch starts and before it stops, so queued work is neither counted nor missed; a prefill graph for
    /// the prompt's size is captured before the clock starts (<see cref="GreedyDecoder.PreparePrefill"/>).
    /// </summary>
    public static double TimeQuery(GreedyDecoder decoder, Tensor prompt, int outputTokens)
    {
        ArgumentNullException.ThrowIfNull(decoder);
        ArgumentNullException.ThrowIfNull(prompt);
        decoder.PreparePrefill(GreedyDecoder.CheckPromptShape(prompt));
        return TimeSynchronized([decoder.Model.Device], () => decoder.Generate(prompt, outputTokens));
    }

    // Every device is synchronised before the stopwatch starts and before it stops; the generated tokens are disposed after.
    private static double TimeSynchronized(IReadOnlyList<Device> devices, Func<Tensor> generate)
    {
        SynchronizeAll(devices);
        var sw = Stopwatch.StartNew();
        using var output = generate();
        SynchronizeAll(devices);
        return sw.Elapsed.TotalSeconds;
    }

    private static void SynchronizeAll(IReadOnlyList<Device> devices)
    {
        foreach (var d in devices)
        {
            Synchronize(d);
        }
    }

    /// <summary>Random prompt ids <c>[1, p]</c> on the model's device, the same for the same (seed, p, trial).</summary>
    public static Tensor RandomPrompt(DecoderTransformer model, int promptTokens, long seed, int trial)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentOutOfRangeException.ThrowIfLessThan(promptTokens, 1);
        // Drawn on the CPU (TorchSharp's Generator is CPU-only) and copied over: a few KB, outside any timing.
        TorchBackend.Ensure(CPU);
        using var generator = new Generator((ulong)unchecked((seed * 1_000_003) + (promptTokens * 7919L) + trial));
        using var ids = randint(0, model.Architecture.VocabularySize, [1, promptTokens], ScalarType.Int64, CPU, generator: generator);
        return model.Device.type is DeviceType.META or DeviceType.CPU ? ids.clone() : ids.to(model.Device);
    }

    internal static void Synchronize(Device device)
    {
        if (device.type == DeviceType.CUDA)
        {
            torch.cuda.synchronize(device);
        }
    }
}
