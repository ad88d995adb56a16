namespace LlmEff.Core.Hardware;

/// <summary>An <see cref="Interconnect"/> fitted to timed all-reduces, with how well it reproduces them.</summary>
/// <param name="Interconnect">The fitted latency and bus bandwidth.</param>
/// <param name="RelativeResiduals">Per sample, in input order: (modelled − measured) / measured.</param>
/// <param name="MaxAbsoluteRelativeError">Largest |relative residual|.</param>
public sealed record InterconnectFit(Interconnect Interconnect, IReadOnlyList<double> RelativeResiduals, double MaxAbsoluteRelativeError);
