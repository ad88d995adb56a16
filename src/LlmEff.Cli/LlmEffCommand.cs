using System.CommandLine;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;
using System.Text.Json;
using System.Text.RegularExpressions;
using LlmEff.Cli.Commands;
using LlmEff.Core;

namespace LlmEff.Cli;

/// <summary>Builds the <c>llmeff</c> command tree and runs it against given writers (so tests drive the real entry point).</summary>
public static class LlmEffCommand
{
    /// <summary>Exit code of a command that failed: the one error line says what and how to fix it.</summary>
    public const int ErrorExitCode = 1;

    /// <summary>Exit code of a command cancelled with Ctrl-C (128 + SIGINT, as shells report it).</summary>
    public const int CancelledExitCode = 130;

    /// <summary>Parses and runs <paramref name="args"/>, writing to <paramref name="output"/> and <paramref name="error"/>; returns the exit code.</summary>
    public static int Run(string[] args, TextWriter output, TextWriter error) => Run(args, output, error, CancellationToken.None);

    /// <summary>
    /// As <see cref="Run(string[], TextWriter, TextWriter)"/>, cancelled by <paramref name="cancellationToken"/> as by Ctrl-C.
    /// Every failure ends in one <c>llmeff: error:</c> line and <see cref="ErrorExitCode"/> (a cancellation in
    /// <see cref="CancelledExitCode"/>), never in a stack trace; <c>--verbose</c> adds the trace.
    /// </summary>
    public static int Run(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken)
        => Run(args, output, error, TimeProvider.System, cancellationToken);

    /// <summary>
    /// As <see cref="Run(string[], TextWriter, TextWriter, CancellationToken)"/>, timing requests to an endpoint (and waiting
    /// between their retries) on <paramref name="clock"/>: tests pass a clock their emulated server moves, so that what a
    /// run measures does not depend on how busy the machine is.
    /// </summary>
    internal static int Run(string[] args, TextWriter output, TextWriter error, TimeProvider clock, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(clock);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        var verbose = new Option<bool>("--verbose") { Description = "Show stack traces on errors.", Recursive = true };
        var root = new RootCommand("llmeff: cheap, comparable inference-efficiency metrics for autoregressive Transformer LLMs.")
        {
            verbose,
            EstimateCommand.Create(output, error),
            AccuracyCommand.Create(output),
            FitCommand.Create(output),
            ModelsCommand.Create(output),
            CompareCommand.Create(output, error),
            ParetoCommand.Create(output, error),
            PlotCommand.Create(output),
            ProfileCommand.Create(output, error, clock),
        };

        var parse = root.Parse(args);
        if (parse.Action is ParseErrorAction && parse.Errors.Count > 0)
        {
            // System.CommandLine would print each error and the help on many lines; one line names them all and where help is.
            var path = new List<string>();
            for (var r = parse.CommandResult; r.Parent is CommandResult parent; r = parent)
            {
                path.Insert(0, r.Command.Name);
            }

            var command = string.Join(' ', path);
            var errors = string.Join("; ", parse.Errors.Select(e => Plain(OptionNamed(e, Regex.Replace(e.Message, @"\s+", " ").Trim().TrimEnd('.')))));
            // A mistyped command gets the closest command names, as a mistyped model name gets the closest models.
            var unknown = parse.UnmatchedTokens.FirstOrDefault(t => !t.StartsWith('-'));
            var names = parse.CommandResult.Command.Subcommands.Select(c => c.Name).ToArray();
            var hint = unknown is not null && names.Length > 0 ? " " + LlmEff.Core.Catalog.NameSuggestions.Describe(unknown, names) : string.Empty;
            error.WriteLine($"llmeff: error: {errors}.{hint} Run 'llmeff {(command.Length == 0 ? string.Empty : command + " ")}--help' for the options.");
            return ErrorExitCode;
        }

        // Cancellation comes from the caller's token (Program wires Ctrl-C to it), not from System.CommandLine's own handler,
        // which would end a slow command after two seconds with exit 130 and no message.
        var config = new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null };
        try
        {
            return parse.InvokeAsync(config, cancellationToken).GetAwaiter().GetResult();
        }
        catch (OperationCanceledException ex) when (cancellationToken.IsCancellationRequested)
        {
            error.WriteLine("llmeff: error: cancelled (Ctrl-C) before the command finished; nothing further was written, so rerun it to get its results.");
            WriteTrace(error, ex, parse.GetValue(verbose));
            return CancelledExitCode;
        }
        catch (Exception ex)
        {
            error.WriteLine($"llmeff: error: {Describe(ex)}");
            WriteTrace(error, ex, parse.GetValue(verbose));
            return ErrorExitCode;
        }
    }

    private static void WriteTrace(TextWriter error, Exception ex, bool verbose)
    {
        if (verbose)
        {
            error.WriteLine(ex.ToString());
        }
    }

    // System.CommandLine names the .NET type it could not parse into ('System.Nullable`1[System.Int32]'); say what to type.
    private static string Plain(string message) => Regex.Replace(message, @"as expected type '(?:System\.Nullable`1\[)?([\w.]+)\]?'", m => m.Groups[1].Value switch
    {
        "System.Int32" or "System.Int64" => "as a whole number",
        "System.Double" or "System.Single" or "System.Decimal" => "as a number",
        "System.Boolean" => "as true or false",
        var type => $"as a {type[(type.LastIndexOf('.') + 1)..]}",
    });

    // A value outside an option's list ("Argument 'x' not recognized. Must be one of: 'a' 'b'") does not say which option.
    private static string OptionNamed(ParseError error, string message)
    {
        var option = error.SymbolResult switch
        {
            OptionResult o => o.Option.Name,
            ArgumentResult { Parent: OptionResult o } => o.Option.Name,
            _ => null,
        };
        var list = Regex.Match(message, @"^Argument '(.*)' not recognized\. Must be one of: (.*)$");
        return option is null || !list.Success
            ? message
            : $"{option} '{list.Groups[1].Value}' is not one of {string.Join(", ", Regex.Matches(list.Groups[2].Value, "'[^']*'").Select(m => m.Value))}";
    }

    // A binary file's bytes echoed in a message would garble the terminal: control characters and undecodable bytes become '?'.
    private static string Printable(string message)
    {
        var chars = message.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            if (char.IsControl(chars[i]) || chars[i] == '\uFFFD')
            {
                chars[i] = '?';
            }
        }

        return new string(chars);
    }

    /// <summary>One line: the message without the "(Parameter 'x')" and "Actual value" suffixes, the CLI's flag for the library's option.</summary>
    internal static string Describe(Exception ex)
    {
        var message = ex.Message;
        if (ex is ArgumentException { ParamName: { } name })
        {
            message = message.Replace($" (Parameter '{name}')", string.Empty, StringComparison.Ordinal);
            var actual = message.IndexOf(Environment.NewLine + "Actual value was", StringComparison.Ordinal);
            message = actual >= 0 ? message[..actual] : message;
        }

        // "Does not exist" misleads when the path names a folder: say what it is, keep the message's fix.
        if (ex is FileNotFoundException { FileName: { } path } && Directory.Exists(path))
        {
            var fix = message.IndexOf("; ", StringComparison.Ordinal);
            message = $"'{path}' is a folder, not a file{(fix >= 0 ? message[fix..] : "; pass a file.")}";
        }

        message = Printable(message.ReplaceLineEndings(" ").Trim())
            .Replace("(drop the plan's AdaptiveBudget)", "(drop --adaptive)", StringComparison.Ordinal);
        if (ex is RuntimeFitException || ex.InnerException is RuntimeFitException)
        {
            return message.Replace("set RuntimeFitOptions.KeepNonPhysicalFit", "pass --keep-non-physical", StringComparison.Ordinal);
        }

        // The exception types a user's input raises carry messages written for the user; anything else is a fault of the tool.
        return ex is ArgumentException or InvalidDataException or IOException or KeyNotFoundException or UnauthorizedAccessException
            or NotSupportedException or InvalidOperationException or JsonException or FormatException or OverflowException
            ? message
            : $"{message} ({ex.GetType().Name}: an unexpected failure of llmeff; rerun with --verbose for the stack trace and report it).";
    }
}
