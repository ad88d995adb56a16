using LlmEff.Core;

namespace LlmEff.Profiling.Api;

/// <summary>The denoised runtime of a black-box API (paper §4.1) and the variation behind it (Figures 5 and 7a).</summary>
public sealed record DenoisedRuntimeReport
{
    /// <summary>
    /// The denoised model: <see cref="RuntimeModel.Fit(IEnumerable{LlmEff.Core.ProfilingSample}, RuntimeFitOptions?)"/> over the minimum of each configuration's trials,
    /// kept even when it is not physical; then <see cref="RuntimeModel.Warnings"/> says why. Show them with the model.
    /// </summary>
    public required RuntimeModel Model { get; init; }

    /// <summary>Trial spread per configuration (Figure 5).</summary>
    public required IReadOnlyList<ConfigurationVariation> Configurations { get; init; }

    /// <summary>Mean coefficient of variation over configurations with at least two trials; NaN when none has.</summary>
    public required double MeanCoefficientOfVariation { get; init; }

    /// <summary>Every raw run against its denoised prediction (Figure 7a's points).</summary>
    public required IReadOnlyList<SampleResidual> RawVersusDenoised { get; init; }

    /// <summary>Share of raw runs strictly slower than the denoised prediction; the paper saw 96.6% (§5.3).</summary>
    public required double ShareAboveDenoised { get; init; }

    /// <summary>Successful samples whose server-reported token counts differed from the request (fitted with the reported counts).</summary>
    public required int MismatchedSamples { get; init; }

    /// <summary>
    /// Answered requests whose reported output length differs from the requested one, whether left out of the fit
    /// (the default) or fitted on their reported length; never dropped silently.
    /// </summary>
    public int OutputLengthMismatches { get; init; }

    /// <summary>Of the answered requests (succeeded, with usage), the share in <see cref="OutputLengthMismatches"/>; 0 when none answered.</summary>
    public double OutputLengthMismatchShare { get; init; }

    /// <summary>Answered requests left out of the fit because their token counts cannot be trusted (see <see cref="Exclusions"/>).</summary>
    public int ExcludedSamples { get; init; }

    /// <summary>Each answered request left out of the fit, with the reason.</summary>
    public IReadOnlyList<SampleExclusion> Exclusions { get; init; } = Array.Empty<SampleExclusion>();

    /// <summary>Requests that failed after all retries and were not answered since (a resumed run sends them again); not fitted.</summary>
    public required int FailedRequests { get; init; }

    /// <summary>Median time to first token over streamed samples, in seconds; null without streaming.</summary>
    public double? MedianTimeToFirstTokenSeconds { get; init; }

    /// <summary>
    /// Median streamed inter-token gap in seconds; null without streaming. An independent estimate of <c>g</c>
    /// that needs no regression, but includes the server's per-chunk network cost.
    /// </summary>
    public double? MedianInterTokenGapSeconds { get; init; }
}
