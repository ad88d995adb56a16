using LlmEff.Profiling.Api.Tests.Emulator;

namespace LlmEff.Profiling.Api.Tests;

/// <summary>Shared pieces of the end-to-end tests against the emulator.</summary>
internal static class Harness
{
    public static readonly SyntheticPromptFactory Cl100k = SyntheticPromptFactory.ForEncoding("cl100k_base");

    /// <summary>Millisecond-scale retries keep fault tests fast.</summary>
    public static readonly RetryPolicy FastRetry = new()
    {
        MaxAttempts = 4,
        InitialDelay = TimeSpan.FromMilliseconds(10),
        MaxDelay = TimeSpan.FromMilliseconds(100),
    };

    public static OpenAiCompatibleEndpoint Endpoint(OpenAiEmulator emulator, Func<OpenAiEndpointOptions, OpenAiEndpointOptions>? configure = null)
    {
        var options = new OpenAiEndpointOptions
        {
            BaseAddress = emulator.BaseAddress,
            Model = "emulated-model",
            ApiKeyEnvironmentVariable = null,
            SendTokenIds = true,
            IgnoreEos = true,
        };
        return new OpenAiCompatibleEndpoint(configure is null ? options : configure(options));
    }
}
