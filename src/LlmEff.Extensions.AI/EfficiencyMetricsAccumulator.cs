namespace LlmEff.Extensions.AI;

/// <summary>
/// Thread-safe running totals of per-request <see cref="EfficiencyMetrics"/>. One accumulator can be shared by several
/// clients (pass it in <see cref="EfficiencyMetricsOptions.Accumulator"/>) so a harness reads one set of totals for a run.
/// </summary>
public sealed class EfficiencyMetricsAccumulator
{
    // A lock rather than Interlocked: the totals are several doubles that must move together so a snapshot is consistent.
    private readonly object _gate = new();
    private long _requests;
    private long _withUsage;
    private long _nonGenerating;
    private long _failed;
    private long _promptTokens;
    private long _outputTokens;
    private double _raw;
    private double _idealized;
    private double _denoised;
    private long _denoisedCount;
    private double _cost;
    private long _costCount;
    private double _energy;
    private long _energyCount;

    /// <summary>Adds one completed request.</summary>
    public void Record(EfficiencyMetrics metrics)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        lock (_gate)
        {
            _requests++;
            _raw += metrics.RawRuntimeSeconds;
            if (!metrics.HasUsage)
            {
                return;
            }

            _withUsage++;
            if (metrics.UsageStatus == TokenUsageStatus.NoOutputTokens)
            {
                _nonGenerating++;
            }

            _promptTokens += metrics.PromptTokens ?? 0;
            _outputTokens += metrics.OutputTokens ?? 0;
            _idealized += metrics.IdealizedRuntimeSeconds ?? 0;
            Add(metrics.DenoisedRuntimeSeconds, ref _denoised, ref _denoisedCount);
            Add(metrics.IdealizedCostUsd, ref _cost, ref _costCount);
            Add(metrics.IdealizedEnergyJoules, ref _energy, ref _energyCount);
        }
    }

    /// <summary>Counts a call whose inner client threw; it adds to no runtime total.</summary>
    public void RecordFailure()
    {
        lock (_gate)
        {
            _failed++;
        }
    }

    /// <summary>A consistent snapshot of the totals so far.</summary>
    public EfficiencyMetricsTotals Snapshot()
    {
        lock (_gate)
        {
            return new EfficiencyMetricsTotals(
                _requests,
                _withUsage,
                _requests - _withUsage,
                _nonGenerating,
                _failed,
                _promptTokens,
                _outputTokens,
                _raw,
                _withUsage == 0 ? null : _idealized,
                _denoisedCount == 0 ? null : _denoised,
                _costCount == 0 ? null : _cost,
                _energyCount == 0 ? null : _energy,
                _denoisedCount);
        }
    }

    /// <summary>Sets every total back to zero, e.g. between the scenarios of a run.</summary>
    public void Reset()
    {
        lock (_gate)
        {
            _requests = _withUsage = _nonGenerating = _failed = _promptTokens = _outputTokens = 0;
            _denoisedCount = _costCount = _energyCount = 0;
            _raw = _idealized = _denoised = _cost = _energy = 0;
        }
    }

    private static void Add(double? value, ref double total, ref long count)
    {
        if (value is { } v)
        {
            total += v;
            count++;
        }
    }
}
