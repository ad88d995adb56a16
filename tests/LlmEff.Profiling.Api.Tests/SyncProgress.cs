namespace LlmEff.Profiling.Api.Tests;

/// <summary>Reports synchronously on the reporting thread (Progress&lt;T&gt; posts to a context, which would race the assertions).</summary>
internal sealed class SyncProgress<T>(Action<T> handler) : IProgress<T>
{
    public void Report(T value) => handler(value);
}
