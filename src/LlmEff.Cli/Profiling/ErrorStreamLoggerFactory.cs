using Microsoft.Extensions.Logging;

namespace LlmEff.Cli.Profiling;

/// <summary>Hands out <see cref="ErrorStreamLogger{T}"/>s for library types that take an <see cref="ILoggerFactory"/>.</summary>
internal sealed class ErrorStreamLoggerFactory(TextWriter error, StatusLine status, bool verbose) : ILoggerFactory
{
    public void AddProvider(ILoggerProvider provider)
    {
    }

    public ILogger CreateLogger(string categoryName) => new ErrorStreamLogger<ErrorStreamLoggerFactory>(error, status, verbose);

    public void Dispose()
    {
    }
}
