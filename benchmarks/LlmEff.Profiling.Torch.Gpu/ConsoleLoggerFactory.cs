using Microsoft.Extensions.Logging;

namespace LlmEff.Profiling.Torch.Gpu;

/// <summary>Hands out <see cref="ConsoleLogger{T}"/>s, for library types that take an <see cref="ILoggerFactory"/>.</summary>
internal sealed class ConsoleLoggerFactory : ILoggerFactory
{
    public void AddProvider(ILoggerProvider provider)
    {
    }

    public ILogger CreateLogger(string categoryName) => new ConsoleLogger<ConsoleLoggerFactory>();

    public void Dispose()
    {
    }
}
