using Microsoft.Extensions.Time.Testing;

namespace LlmEff.Profiling.Api.Tests;

/// <summary>
/// A fake clock for the profiler's timeouts and waits. A wait shorter than <see cref="AutoAdvanceBelow"/> (backoff,
/// Retry-After) moves the clock forward by its length at once, so retries run without real waiting; longer timers
/// (the request timeout) fire only when a test calls <see cref="FakeTimeProvider.Advance"/>. Nothing depends on how
/// fast the machine is.
/// </summary>
internal sealed class TestClock : FakeTimeProvider
{
    private readonly List<TimeSpan> _waits = [];

    public TestClock(TimeSpan autoAdvanceBelow)
        : base(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero)) => AutoAdvanceBelow = autoAdvanceBelow;

    public TimeSpan AutoAdvanceBelow { get; }

    /// <summary>Every wait that was moved forward automatically, in order.</summary>
    public IReadOnlyList<TimeSpan> Waits
    {
        get
        {
            lock (_waits)
            {
                return _waits.ToArray();
            }
        }
    }

    /// <summary>Time passed on this clock since it was created.</summary>
    public TimeSpan Elapsed => GetUtcNow() - Start;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = base.CreateTimer(callback, state, dueTime, period);
        if (dueTime > TimeSpan.Zero && dueTime < AutoAdvanceBelow)
        {
            lock (_waits)
            {
                _waits.Add(dueTime);
            }

            // Not inline: the caller (Task.Delay) has not finished constructing the timer yet.
            ThreadPool.QueueUserWorkItem(_ => Advance(dueTime));
        }

        return timer;
    }
}
