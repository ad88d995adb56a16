namespace LlmEff.Profiling.Api.Tests.Emulator;

/// <summary>
/// The emulator's ground truth: t(p, o) = overhead + PE(p) + (o − 1)·g + η with PE(p) = a + b·p and η ≥ 0
/// (zero with probability <see cref="ZeroNoiseProbability"/>, else exponential), plus a load penalty per extra
/// request in flight. Milliseconds, so tests stay fast.
/// </summary>
internal sealed record EmulatedLatency
{
    public double OverheadSeconds { get; init; } = 0.010;

    public double PromptBaseSeconds { get; init; } = 0.005;

    public double PromptSecondsPerToken { get; init; } = 0.0001;

    public double PerOutputTokenSeconds { get; init; } = 0.002;

    public double NoiseMeanSeconds { get; init; } = 0.004;

    public double ZeroNoiseProbability { get; init; } = 0.4;

    /// <summary>Fractional slowdown per additional concurrent request (contention, Figure 6).</summary>
    public double LoadPenaltyPerRequest { get; init; }

    /// <summary>What the denoised fit should find as PE(p) with OverheadMode.None: the overhead folded in.</summary>
    public double DenoisedPromptSeconds(int p) => OverheadSeconds + PromptBaseSeconds + (PromptSecondsPerToken * p);
}
