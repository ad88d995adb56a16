using LlmEff.Core;
using LlmEff.Core.Hardware;
using LlmEff.Core.Reference;

namespace LlmEff.Extensions.AI.Tests;

/// <summary>Profiles and hand-computed values the tests check against.</summary>
internal static class Expected
{
    public const double Tolerance = 1e-12;

    public const string Davinci = "OpenAI/davinci";

    /// <summary>Table 3, davinci idealized: PE(512) = 0.178 s, PE(1024) = 0.323 s, g = 0.081 s, 8 A100s (Table 1).</summary>
    public static RuntimeModel Idealized => PaperTable3.Get(Davinci, RuntimeMetric.Idealized);

    /// <summary>Table 3, davinci denoised: PE(512) = 0.045 s, g = 0.030 s.</summary>
    public static RuntimeModel Denoised => PaperTable3.Get(Davinci, RuntimeMetric.Denoised);

    /// <summary>t(512, 10) = 0.178 + 9 × 0.081 = 0.907 s (Table 3 davinci idealized).</summary>
    public const double Idealized512x10Seconds = 0.178 + (9 * 0.081);

    /// <summary>t(512, 10) = 0.045 + 9 × 0.030 = 0.315 s (Table 3 davinci denoised).</summary>
    public const double Denoised512x10Seconds = 0.045 + (9 * 0.030);

    /// <summary>Cost t × 8 × ($40.9657/h ÷ 8 ÷ 3600) at the A100-80GB price in Accelerators.</summary>
    public static double CostUsd(double seconds) => seconds * 8 * (40.9657 / 8 / 3600);

    /// <summary>Energy t × 8 × 400 W (A100 board power).</summary>
    public static double EnergyJoules(double seconds) => seconds * 8 * 400;

    public static EfficiencyMetricsOptions Options(EfficiencyMetricsAccumulator? accumulator = null) => new()
    {
        IdealizedRuntime = Idealized,
        DenoisedRuntime = Denoised,
        Accelerator = Accelerators.A100_80GB,
        Accumulator = accumulator,
    };
}
