using Microsoft.Extensions.Logging;

namespace LlmEff.Cli.Profiling;

/// <summary>Writes the profiler's warnings (and, with <c>--verbose</c>, its information) to the error stream as <c>llmeff: ...</c> lines.</summary>
internal sealed class ErrorStreamLogger<T>(TextWriter error, StatusLine status, bool verbose) : ILogger<T>
{
    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= (verbose ? LogLevel.Information : LogLevel.Warning);

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (IsEnabled(logLevel))
        {
            status.End();
            error.WriteLine($"llmeff: {formatter(state, exception)}");
        }
    }
}
