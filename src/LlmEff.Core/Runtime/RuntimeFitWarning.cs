namespace LlmEff.Core;

/// <summary>
/// One reason a fitted runtime model is not physical: what came out, why that usually happens and what to measure next.
/// <see cref="RuntimeModel.Fit(IEnumerable{ProfilingSample}, RuntimeFitOptions?)"/> refuses such a fit with a
/// <see cref="RuntimeFitException"/> unless <see cref="RuntimeFitOptions.KeepNonPhysicalFit"/> is set, in which case the
/// model carries these in <see cref="RuntimeModel.Warnings"/>.
/// </summary>
/// <param name="Kind">Which rule the fit broke.</param>
/// <param name="Message">One sentence naming the value that came out (e.g. <c>g = -0.3 ms/token</c>).</param>
/// <param name="LikelyCause">Why this usually happens.</param>
/// <param name="NextMeasurement">What to measure (or change) next.</param>
public sealed record RuntimeFitWarning(RuntimeFitWarningKind Kind, string Message, string LikelyCause, string NextMeasurement)
{
    /// <inheritdoc />
    public override string ToString() => $"{Message} {LikelyCause} {NextMeasurement}";
}
