namespace LlmEff.Profiling.Api;

/// <summary>
/// Releases the requests of one concurrent batch together and counts how many of them are on the wire, so each
/// sample is labelled with the load it really ran at (a retry sent after its batch finished ran nearly alone).
/// </summary>
internal sealed class BatchGate(int size)
{
    private readonly TaskCompletionSource _open = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _waiting = size;
    private int _inFlight;
    private int _released;

    /// <summary>Waits until every request of the batch has arrived (or given up preparing).</summary>
    public Task ArriveAsync(CancellationToken cancellationToken)
    {
        Arrive(sending: true);
        return _open.Task.WaitAsync(cancellationToken);
    }

    /// <summary>A request that failed before it could be sent, so the others do not wait for it.</summary>
    public void Abandon() => Arrive(sending: false);

    /// <summary>An attempt goes out; returns the requests on the wire, itself included.</summary>
    public int Send(bool first)
    {
        // First attempts were counted together when the gate opened: they leave at the same moment, whatever order
        // the thread pool happens to run their continuations in.
        return first ? Volatile.Read(ref _released) : Interlocked.Increment(ref _inFlight);
    }

    /// <summary>An attempt finished, successfully or not.</summary>
    public void Done() => Interlocked.Decrement(ref _inFlight);

    /// <summary>A request stops before sending its attempt (the budget refused it).</summary>
    public void Leave(bool first)
    {
        if (first)
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

    private void Arrive(bool sending)
    {
        if (sending)
        {
            Interlocked.Increment(ref _released);
        }

        if (Interlocked.Decrement(ref _waiting) == 0)
        {
            Volatile.Write(ref _inFlight, Volatile.Read(ref _released));
            _open.TrySetResult();
        }
    }
}
