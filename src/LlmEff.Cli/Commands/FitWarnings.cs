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

    /// <summary>Writes <c>warning: ...</c> for every warning of <paramref name="model"/>, prefixed with <paramref name="label"/> when given.</summary>
    public static void Print(TextWriter writer, RuntimeModel model, string? label = null)
    {
        foreach (var w in model.Warnings)
        {
            writer.WriteLine(label is null ? $"warning: {w}" : $"warning: {label}: {w}");
        }
    }
}
