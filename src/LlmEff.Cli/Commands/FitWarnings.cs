using System.CommandLine;
using LlmEff.Core;

namespace LlmEff.Cli.Commands;

/// <summary>Prints a model's <see cref="RuntimeModel.Warnings"/> (present only on fits kept with <c>--keep-non-physical</c>), one line each.</summary>
internal static class FitWarnings
{
    /// <summary>The <c>--keep-non-physical</c> option of the commands that fit.</summary>
    public static Option<bool> KeepOption() => new("--keep-non-physical")
    {
        Description = "Keep a fit that is not physical (g <= 0, a negative PE knot or prediction, R² below 0.99) and print its warnings, instead of refusing it.",
    };

    /// <summary>
    /// Fits the energy model beside a runtime fit; when it is refused, says it is the energy model (joules, not seconds)
    /// and keeps the fit's reasons, so a refusal is not mistaken for the runtime fit's.
    /// </summary>
    public static T EnergyFit<T>(string source, Func<T> fit)
    {
        try
        {
            return fit();
        }
        catch (RuntimeFitException ex)
        {
            throw new InvalidOperationException($"{source}: the runtime model fits, but the energy model from the energy_joules column does not (its values are joules and its g is joules per output token): {ex.Message}", ex);
        }
    }

    /// <summary>Writes <c>warning: ...</c> for every warning of <paramref name="model"/>, prefixed with <paramref name="label"/> when given.</summary>
    public static void Print(TextWriter writer, RuntimeModel model, string? label = null)
    {
        foreach (var w in model.Warnings)
        {
            writer.WriteLine(label is null ? $"warning: {w}" : $"warning: {label}: {w}");
        }
    }
}
