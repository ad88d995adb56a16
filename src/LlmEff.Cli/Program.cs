namespace LlmEff.Cli;

/// <summary>Process entry point of the <c>llmeff</c> tool.</summary>
public static class Program
{
    /// <summary>Runs the tool with the process's console; the first Ctrl-C cancels the command cleanly (exit 130), a second ends the process.</summary>
    public static int Main(string[] args)
    {
        using var cancel = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            // The command sees the token, stops between steps and says so in one line; a second Ctrl-C is not intercepted.
            if (!cancel.IsCancellationRequested)
            {
                e.Cancel = true;
                cancel.Cancel();
            }
        };
        return LlmEffCommand.Run(args, Console.Out, Console.Error, cancel.Token);
    }
}
