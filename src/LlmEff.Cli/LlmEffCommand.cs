using System.CommandLine;
using LlmEff.Cli.Commands;

namespace LlmEff.Cli;

/// <summary>Builds the <c>llmeff</c> command tree and runs it against given writers (so tests drive the real entry point).</summary>
public static class LlmEffCommand
{
    /// <summary>Parses and runs <paramref name="args"/>, writing to <paramref name="output"/> and <paramref name="error"/>; returns the exit code.</summary>
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(args);
        var verbose = new Option<bool>("--verbose") { Description = "Show stack traces on errors.", Recursive = true };
        var root = new RootCommand("llmeff: cheap, comparable inference-efficiency metrics for autoregressive Transformer LLMs.")
        {
            verbose,
            EstimateCommand.Create(output),
            AccuracyCommand.Create(output),
            FitCommand.Create(output),
            ModelsCommand.Create(output),
            CompareCommand.Create(output),
            ParetoCommand.Create(output),
            PlotCommand.Create(output),
            ProfileCommand.Create(output, error),
        };

        var parse = root.Parse(args);
        var config = new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false };
        try
        {
            return parse.Invoke(config);
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidDataException or IOException or KeyNotFoundException or UnauthorizedAccessException or NotSupportedException)
        {
            error.WriteLine($"llmeff: error: {ex.Message}");
            if (parse.GetValue(verbose))
            {
                error.WriteLine(ex.ToString());
            }

            return 1;
        }
    }
}
