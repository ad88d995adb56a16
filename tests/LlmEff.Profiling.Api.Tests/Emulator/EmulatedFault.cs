namespace LlmEff.Profiling.Api.Tests.Emulator;

internal enum EmulatedFaultKind
{
    RateLimited,
    ServerError,
    BadRequest,
    DropConnection,
    Slow,
    MalformedJson,
    EchoAuthorization,
    DropMidStream,
}

/// <summary>A fault the emulator injects into one request instead of (or on top of) a normal answer.</summary>
internal sealed record EmulatedFault(EmulatedFaultKind Kind, double Seconds = 0);
