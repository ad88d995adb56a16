namespace LlmEff.Cli.Commands;

/// <content>Output paths, checked before any work so a typo does not cost a finished fit or a paid profiling run.</content>
internal static partial class CliInputs
{
    /// <summary>
    /// Refuses an output file that cannot be written: its folder missing, or the path an existing folder. Checked up
    /// front, naming <paramref name="option"/>, since otherwise the write fails only after all the work with .NET's
    /// message ("Could not find a part of the path", "Access to the path is denied"). <paramref name="kind"/> names the
    /// file the fix asks for (a figure's ".png or .svg file").
    /// </summary>
    public static void CheckOutputFile(FileInfo? file, string option, string kind = "file")
    {
        if (file is null)
        {
            return;
        }

        if (Directory.Exists(file.FullName))
        {
            throw new ArgumentException($"{option} '{file.FullName}' is a folder; give a {kind} name inside it.");
        }

        var folder = Path.GetDirectoryName(file.FullName);
        if (!string.IsNullOrEmpty(folder) && !Directory.Exists(folder))
        {
            throw new DirectoryNotFoundException($"{option} '{file.FullName}': folder '{folder}' does not exist; create it first or give another path.");
        }
    }
}
