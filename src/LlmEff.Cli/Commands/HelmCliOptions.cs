using System.CommandLine;
using LlmEff.Core.Catalog;

namespace LlmEff.Cli.Commands;

/// <summary>The <c>--helm-tables</c> and <c>--helm-interpolate</c> options of the commands that resolve models.</summary>
internal sealed class HelmCliOptions
{
    /// <summary><c>--helm-tables DIR</c>.</summary>
    public Option<DirectoryInfo?> Tables { get; } = new("--helm-tables")
    {
        Description = $"Folder holding HELM's {HelmTables.IdealizedFile} and {HelmTables.DenoisedFile}, for helm:NAME and helm-denoised:NAME models; default: ${HelmTables.EnvironmentVariable}, else the nearest shared/data/helm/ above the current or the tool's directory.",
    };

    /// <summary><c>--helm-interpolate</c>.</summary>
    public Option<bool> Interpolate { get; } = new("--helm-interpolate")
    {
        Description = "Read PE of helm: models by interpolating between the table's prompt sizes instead of HELM's own estimator (next key scaled by p/key, the default, which reproduces HELM's numbers).",
    };

    /// <summary>Adds both options to <paramref name="command"/>.</summary>
    public void AddTo(Command command, bool withInterpolate = true)
    {
        command.Options.Add(Tables);
        if (withInterpolate)
        {
            command.Options.Add(Interpolate);
        }
    }

    /// <summary>The parsed values.</summary>
    /// <exception cref="DirectoryNotFoundException"><c>--helm-tables</c> names no folder.</exception>
    public HelmTableOptions Read(ParseResult parse)
    {
        // A folder given explicitly that does not exist is a typo; an existing one without tables is reported where tables are needed.
        if (parse.GetValue(Tables) is { Exists: false } folder)
        {
            throw new DirectoryNotFoundException($"--helm-tables '{folder.FullName}' does not exist; pass the folder holding {HelmTables.IdealizedFile} and {HelmTables.DenoisedFile} (e.g. shared/data/helm), or omit the option.");
        }

        return new(parse.GetValue(Tables)?.FullName, parse.GetValue(Interpolate));
    }
}
