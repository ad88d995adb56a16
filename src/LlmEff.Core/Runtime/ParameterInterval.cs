namespace LlmEff.Core;

/// <summary>A point estimate with a bootstrap percentile interval.</summary>
/// <param name="Estimate">The value from the fit on all samples.</param>
/// <param name="Lower">Lower bound of the interval.</param>
/// <param name="Upper">Upper bound of the interval.</param>
public readonly record struct ParameterInterval(double Estimate, double Lower, double Upper)
{
    /// <summary>Half the interval width relative to the estimate (0.01 = ±1%).</summary>
    public double RelativeHalfWidth => Estimate == 0 ? double.PositiveInfinity : 0.5 * (Upper - Lower) / Math.Abs(Estimate);
}
