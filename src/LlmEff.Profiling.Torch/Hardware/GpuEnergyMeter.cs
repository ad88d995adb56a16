using System.Diagnostics;
using LlmEff.Core;

namespace LlmEff.Profiling.Torch;

/// <summary>
/// Energy of GPU work from NVML's cumulative energy counter. The counter only moves every
/// <see cref="CounterIntervalSeconds"/>, so a reading is exact to about one update: a measurement must span
/// many updates to be accurate, and short queries are repeated until they do (see <see cref="RepeatsFor"/>).
/// </summary>
public sealed class GpuEnergyMeter
{
    private GpuEnergyMeter(NvmlGpu gpu, double intervalSeconds)
    {
        Gpu = gpu;
        CounterIntervalSeconds = intervalSeconds;
    }

    /// <summary>The smallest step of NVML's energy counter in joules: it counts millijoules.</summary>
    public const double CounterResolutionJoules = 0.001;

    /// <summary>The GPU being metered.</summary>
    public NvmlGpu Gpu { get; }

    /// <summary>Median time between changes of the energy counter, measured when the meter was opened.</summary>
    public double CounterIntervalSeconds { get; }

    /// <summary>
    /// Opens the counter of GPU <paramref name="index"/> and measures its update interval by polling it for
    /// <paramref name="probeSeconds"/>; null, with <paramref name="reason"/> saying why, when NVML, the GPU or the counter is missing.
    /// </summary>
    public static GpuEnergyMeter? TryOpen(int index, out string reason, double probeSeconds = 0.5)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(probeSeconds);
        if (!NvmlGpu.IsAvailable)
        {
            reason = "NVML (libnvidia-ml.so.1 / nvml.dll) could not be loaded; profiling continues without energy.";
            return null;
        }

        var gpu = NvmlGpu.TryOpen(index);
        if (gpu is null)
        {
            reason = $"NVML has no GPU {index}; profiling continues without energy.";
            return null;
        }

        if (gpu.TotalEnergyJoules() is null)
        {
            reason = $"GPU {index} has no total-energy counter (NVML nvmlDeviceGetTotalEnergyConsumption needs Volta or newer); profiling continues without energy.";
            return null;
        }

        var changes = new List<double>();
        var sw = Stopwatch.StartNew();
        var last = gpu.TotalEnergyJoules();
        var lastChange = -1.0;
        while (sw.Elapsed.TotalSeconds < probeSeconds)
        {
            var now = gpu.TotalEnergyJoules();
            if (now != last)
            {
                var t = sw.Elapsed.TotalSeconds;
                if (lastChange >= 0)
                {
                    changes.Add(t - lastChange);
                }

                lastChange = t;
                last = now;
            }
        }

        if (changes.Count == 0)
        {
            reason = $"GPU {index}'s energy counter did not change within {probeSeconds} s; profiling continues without energy.";
            return null;
        }

        reason = string.Empty;
        return new GpuEnergyMeter(gpu, Percentiles.Median(changes));
    }

    /// <summary>The counter now, in joules.</summary>
    public double ReadJoules() => Gpu.TotalEnergyJoules() ?? throw new InvalidOperationException("The NVML energy counter stopped answering.");

    /// <summary>Repetitions of a query of <paramref name="querySeconds"/> so that together they span <paramref name="intervals"/> counter updates.</summary>
    public int RepeatsFor(double querySeconds, int intervals)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(querySeconds);
        ArgumentOutOfRangeException.ThrowIfLessThan(intervals, 1);
        // The tolerance keeps an exact multiple (10 intervals of a query one interval long) from rounding up to 11.
        return (int)Math.Clamp(Math.Ceiling((intervals * CounterIntervalSeconds / querySeconds) - 1e-9), 1, 100_000);
    }

    /// <summary>Average power over <paramref name="seconds"/> from the counter (the GPU should be idle, e.g. before a run).</summary>
    public double AveragePowerWatts(double seconds)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(seconds);
        var e0 = ReadJoules();
        var sw = Stopwatch.StartNew();
        Thread.Sleep(TimeSpan.FromSeconds(seconds));
        return (ReadJoules() - e0) / sw.Elapsed.TotalSeconds;
    }
}
