namespace LlmEff.Core;

/// <summary>
/// Thrown by <see cref="RuntimeModel.Fit(IEnumerable{ProfilingSample}, RuntimeFitOptions?)"/> when the fitted model is not
/// physical (a non-positive <c>g</c>, a negative <c>PE</c> knot, a negative prediction in the profiled range, or R² below
/// the threshold). The message is one line naming what came out, why it usually happens and what to measure next; the
/// findings and the refused model are kept for inspection. Set <see cref="RuntimeFitOptions.KeepNonPhysicalFit"/> to
/// receive the model with <see cref="RuntimeModel.Warnings"/> instead.
/// </summary>
public sealed class RuntimeFitException : InvalidOperationException
{
    /// <summary>Creates the exception for <paramref name="model"/> and the rules it broke.</summary>
    /// <param name="model">The refused model (its <see cref="RuntimeModel.Warnings"/> hold <paramref name="findings"/>).</param>
    /// <param name="findings">The rules the model broke; at least one.</param>
    public RuntimeFitException(RuntimeModel model, IReadOnlyList<RuntimeFitWarning> findings)
        : base(Describe(findings))
    {
        ArgumentNullException.ThrowIfNull(model);
        RefusedModel = model;
        Findings = findings;
    }

    /// <summary>Every rule the fit broke, in the order checked.</summary>
    public IReadOnlyList<RuntimeFitWarning> Findings { get; }

    /// <summary>The model that was refused, for inspection (plotting its residuals, say); do not use it for estimates.</summary>
    public RuntimeModel RefusedModel { get; }

    private static string Describe(IReadOnlyList<RuntimeFitWarning> findings)
    {
        ArgumentNullException.ThrowIfNull(findings);
        if (findings.Count == 0)
        {
            throw new ArgumentException("A RuntimeFitException needs at least one finding.", nameof(findings));
        }

        // One line: what came out, then each distinct cause and next step once (several findings often share them).
        var what = string.Join(" ", findings.Select(f => f.Message));
        var causes = string.Join(" ", findings.Select(f => f.LikelyCause).Distinct(StringComparer.Ordinal));
        var next = string.Join(" ", findings.Select(f => f.NextMeasurement).Distinct(StringComparer.Ordinal));
        return $"The fitted runtime model is not physical: {what} {causes} {next} To keep such a fit with its warnings anyway, set RuntimeFitOptions.KeepNonPhysicalFit.";
    }
}
