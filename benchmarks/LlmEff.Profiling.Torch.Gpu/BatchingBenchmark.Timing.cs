using System.Diagnostics;
using static TorchSharp.torch;

namespace LlmEff.Profiling.Torch.Gpu;

// How one batched run, and the two runs of a decode step's difference, are timed; and the GPU's clocks read between them.
internal static partial class BatchingBenchmark
{
    /// <summary>
    /// Best of passes 1..3 of t(p, 1) and t(p, <paramref name="manyTokens"/>), pass 0 (when <paramref name="warmUp"/>) a
    /// warm-up; with <paramref name="idleMs"/>, each run after that idle. With <paramref name="alternate"/>, even passes time
    /// the generating run first: then the best of each term is a run that followed a generating run's decode, where in order
    /// the generating run always follows t(p, 1)'s prefill (the power limiter's lowered clocks). PrefillOfMany: the prefill
    /// inside the best generating run (a sync at its end; 0 unless <paramref name="splitMany"/>), so the step splits into
    /// its decode part and the excess of that prefill over t(p, 1).
    /// </summary>
    private static (double One, double Many, double PrefillOfMany) BestRuns(
        BatchedGreedyDecoder decoder, Func<int, Tensor> promptOfPass, int manyTokens, Device device, bool warmUp, int idleMs, bool alternate, bool splitMany)
    {
        var one = double.MaxValue;
        var many = double.MaxValue;
        var prefillOfMany = 0.0;
        for (var pass = warmUp ? 0 : 1; pass < 4; pass++)
        {
            using var prompt = promptOfPass(pass);
            double a = 0, c = 0, pc = 0;
            void RunOne()
            {
                Idle(idleMs);
                a = Time(decoder, prompt, 1, device);
            }

            void RunMany()
            {
                Idle(idleMs);
                (c, pc) = splitMany ? TimeSplit(decoder, prompt, manyTokens, device) : (Time(decoder, prompt, manyTokens, device), 0.0);
            }

            if (alternate && pass % 2 == 0)
            {
                RunMany();
                RunOne();
            }
            else
            {
                RunOne();
                RunMany();
            }

            if (pass > 0)
            {
                one = Math.Min(one, a);
                if (c < many)
                {
                    many = c;
                    prefillOfMany = pc;
                }
            }
        }

        return (one, many, prefillOfMany);
    }

    // Back to back means no call at all: even Sleep(0) yields the thread between the timed runs.
    private static void Idle(int ms)
    {
        if (ms > 0)
        {
            Thread.Sleep(ms);
        }
    }

    // The GPU's SM clock and clock-event reasons now, folded into the lowest clock and the OR of the reasons so far.
    private static (int? Clock, ulong? Reasons) Clocks(NvmlGpu? gpu, int? lowest, ulong? reasons)
    {
        if (gpu?.SmClockMegahertz() is not { } mhz)
        {
            return (lowest, reasons);
        }

        var now = gpu.ClockEventReasons();
        return (Math.Min(lowest ?? int.MaxValue, mhz), now is null ? reasons : (reasons ?? 0) | now);
    }

    // One generating run with a sync after its prefill: (whole run, its prefill) in seconds.
    private static (double Whole, double Prefill) TimeSplit(BatchedGreedyDecoder decoder, Tensor prompt, int outputTokens, Device device)
    {
        DeviceLimits.Sync(device);
        var sw = Stopwatch.StartNew();
        var prefill = 0.0;
        using var output = decoder.Generate(prompt, outputTokens, () =>
        {
            DeviceLimits.Sync(device);
            prefill = sw.Elapsed.TotalSeconds;
        });
        DeviceLimits.Sync(device);
        return (sw.Elapsed.TotalSeconds, prefill);
    }

    private static double Time(BatchedGreedyDecoder decoder, Tensor prompt, int outputTokens, Device device)
    {
        DeviceLimits.Sync(device);
        var sw = Stopwatch.StartNew();
        using var output = decoder.Generate(prompt, outputTokens);
        DeviceLimits.Sync(device);
        return sw.Elapsed.TotalSeconds;
    }
}
