namespace LlmEff.Profiling.Torch.Tests;

/// <summary>Reports synchronously on the profiling thread (Progress&lt;T&gt; posts to the thread pool, which would race the assertions).</summary>
internal sealed class SyncProgress<T>(Action<T> action) : IProgress<T>
{
    public void Report(T value) => action(value);
}
