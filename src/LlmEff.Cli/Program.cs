namespace LlmEff.Cli;

/// <summary>Process entry point of the <c>llmeff</c> tool.</summary>
public static class Program
{
    /// <summary>Runs the tool with the process's console.</summary>
    public static int Main(string[] args) => LlmEffCommand.Run(args, Console.Out, Console.Error);
}
