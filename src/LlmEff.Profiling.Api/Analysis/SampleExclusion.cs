
namespace LlmEff.Profiling.Api;

/// <summary>An answered request the denoised fit left out, and why.</summary>
/// <param name="Key">The request.</param>
/// <param name="Reason">Why its token counts cannot be trusted.</param>
public sealed record SampleExclusion(ApiRequestKey Key, string Reason);
