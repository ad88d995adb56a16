using Microsoft.Extensions.Logging;

namespace LlmEff.Extensions.AI.Tests;

/// <summary>A logger that keeps every formatted message, for asserting on warnings.</summary>
internal sealed class ListLogger : ILogger
{
    public List<string> Messages { get; } = [];

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        => Messages.Add($"{logLevel}: {formatter(state, exception)}");
}
