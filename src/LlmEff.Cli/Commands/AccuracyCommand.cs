using System.CommandLine;
using LlmEff.Core.Evaluation;
using LlmEff.Core.Serialization;

namespace LlmEff.Cli.Commands;

/// <summary><c>llmeff accuracy</c>: the estimation-accuracy study on fully measured grids, written as Markdown (docs/accuracy.md).</summary>
internal static class AccuracyCommand
{
    public static Command Create(TextWriter output)
    {
        var data = new Option<DirectoryInfo?>("--data")
        {
            Description = "Folder of fully measured grids as sample CSVs (default: the authors' Megatron logs in shared/data/megatron, searched upward from the current folder).",
        };
        var file = new Option<FileInfo?>("--output", "-o") { Description = "Write the Markdown report here instead of standard output." };
        var command = new Command("accuracy", "Compare the paper's estimation procedure with LlmEff's (context-aware decode, monotone PE, adaptive profiling) and HELM's estimator on fully measured grids.")
        {
            data, file,
        };
        command.SetAction((parse, cancellationToken) =>
        {
            CliInputs.CheckOutputFile(parse.GetValue(file), "--output");
            var folder = parse.GetValue(data)?.FullName ?? FindDefaultData()
                ?? throw new DirectoryNotFoundException("No grid folder given and shared/data/megatron was not found above the current folder; pass --data DIR.");
            if (!Directory.Exists(folder))
            {
                throw new DirectoryNotFoundException($"Grid folder '{folder}' does not exist; pass --data with a folder of sample CSVs.");
            }

            var files = Directory.GetFiles(folder, "*.csv").Order(StringComparer.Ordinal).ToArray();
            if (files.Length == 0)
            {
                throw new FileNotFoundException($"No *.csv grids in '{folder}'; pass --data with a folder of fully measured grids as samples CSVs (e.g. shared/data/megatron).");
            }

            foreach (var f in files)
            {
                CliInputs.EnsureText(f, "a measured grid as samples CSV (prompt_tokens,output_tokens,runtime_seconds)");
            }

            var grids = files.Select(f =>
            {
                try
                {
                    return new ProfilingGrid(Path.GetFileName(f), ProfilingSampleCsv.ReadFile(f));
                }
                catch (ArgumentException ex) when (ex.ParamName == "samples")
                {
                    throw new ArgumentException(CliInputs.NameRows(LlmEffCommand.Describe(ex)), ex);
                }
            }).ToList();
            var report = AccuracyReport.Write(grids, Path.GetFileName(folder.TrimEnd(Path.DirectorySeparatorChar)), cancellationToken);
            if (parse.GetValue(file) is { } target)
            {
                File.WriteAllText(target.FullName, report);
                output.WriteLine($"wrote {target.FullName}");
            }
            else
            {
                output.Write(report);
            }

            return Task.FromResult(0);
        });
        return command;
    }

    private static string? FindDefaultData()
    {
        for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
        {
            foreach (var candidate in new[] { Path.Combine(dir.FullName, "shared", "data", "megatron"), Path.Combine(dir.FullName, "..", "shared", "data", "megatron") })
            {
                if (Directory.Exists(candidate))
                {
                    return Path.GetFullPath(candidate);
                }
            }
        }

        return null;
    }
}
