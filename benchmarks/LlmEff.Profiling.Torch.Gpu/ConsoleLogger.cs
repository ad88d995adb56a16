using Microsoft.Extensions.Logging;

namespace LlmEff.Profiling.Torch.Gpu;

/// <summary>Minimal timestamped console logger (the harness needs no logging package beyond the abstractions).</summary>
internal sealed class ConsoleLogger<T> : ILogger<T>
{
    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (IsEnabled(logLevel))
        {
            Console.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {logLevel,-11} {typeof(T).Name}: {formatter(state, exception)}{(exception is null ? string.Empty : " " + exception)}");
        }
    }
}
