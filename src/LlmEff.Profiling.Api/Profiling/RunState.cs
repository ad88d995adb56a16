
namespace LlmEff.Profiling.Api;

/// <summary>Counters of one run, shared by its concurrent requests.</summary>
internal sealed class RunState(long total, BudgetTracker budget, Random random, IProgress<ApiProfilingProgress>? progress)
{
    private readonly object _reportGate = new();

    private long _finished;
    private long _skipped;
    private long _failed;
    private int _attempts;
    private int _mismatches;
    private int _suspects;

    public BudgetTracker Budget { get; } = budget;

    public Random Random { get; } = random;

    public int Attempts => Volatile.Read(ref _attempts);

    public long Skipped => Interlocked.Read(ref _skipped);

    public long Failed => Interlocked.Read(ref _failed);

    public void CountAttempt() => Interlocked.Increment(ref _attempts);

    public void CountFailure() => Interlocked.Increment(ref _failed);

    public int CountMismatch() => Interlocked.Increment(ref _mismatches);

    public long Suspects => Volatile.Read(ref _suspects);

    public int CountSuspect() => Interlocked.Increment(ref _suspects);

    public void Skip(int count)
    {
        if (count > 0)
        {
            Interlocked.Add(ref _skipped, count);
            Interlocked.Add(ref _finished, count);
        }
    }

    // Requests finish on many threads: one at a time here, so a handler is never entered twice at once and the counts
    // it sees only grow, each report a consistent snapshot.
    public void Report(ApiSampleRecord record)
    {
        lock (_reportGate)
        {
            var finished = Interlocked.Increment(ref _finished);
            progress?.Report(new ApiProfilingProgress(finished, total, Skipped, Failed, record));
        }
    }
}
