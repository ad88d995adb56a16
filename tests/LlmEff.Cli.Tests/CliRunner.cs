namespace LlmEff.Cli.Tests;

/// <summary>Runs the tool through its real entry point and captures both streams.</summary>
internal static class CliRunner
{
    public static (int Code, string Out, string Err) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = LlmEffCommand.Run(args, output, error);
        return (code, output.ToString(), error.ToString());
    }

    /// <summary>
    /// As <see cref="Run"/>, with requests timed on <paramref name="clock"/>: give the same clock to the emulator
    /// (<see cref="Emulator.OpenAiEmulator.VirtualClock"/>) and a run measures exactly its emulated runtimes.
    /// </summary>
    public static (int Code, string Out, string Err) RunOn(TimeProvider clock, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = LlmEffCommand.Run(args, output, error, clock, CancellationToken.None);
        return (code, output.ToString(), error.ToString());
    }

    /// <summary>
    /// The tool as a child process, for what only a process shows (a kill, native libraries writing to the real stderr).
    /// It runs under this test host's runtime config and dependencies: its ASP.NET Core framework (for the emulator)
    /// supplies Microsoft.Extensions.* in place of the package copies the tool ships with, so they are not in this folder.
    /// </summary>
    public static System.Diagnostics.ProcessStartInfo ChildProcess(params string[] args)
    {
        var start = new System.Diagnostics.ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("exec");
        start.ArgumentList.Add("--runtimeconfig");
        start.ArgumentList.Add(System.IO.Path.Combine(AppContext.BaseDirectory, "LlmEff.Cli.Tests.runtimeconfig.json"));
        start.ArgumentList.Add("--depsfile");
        start.ArgumentList.Add(System.IO.Path.Combine(AppContext.BaseDirectory, "LlmEff.Cli.Tests.deps.json"));
        start.ArgumentList.Add(System.IO.Path.Combine(AppContext.BaseDirectory, "llmeff.dll"));
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }

        return start;
    }

    /// <summary>Asserts the run failed with exactly one "llmeff: error:" line (no stack trace) containing every fragment.</summary>
    public static void AssertOneLineError((int Code, string Out, string Err) result, params string[] fragments)
    {
        Assert.Equal(1, result.Code);
        var lines = result.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.StartsWith("llmeff: error:", lines[0], StringComparison.Ordinal);
        foreach (var f in fragments)
        {
            Assert.Contains(f, lines[0], StringComparison.Ordinal);
        }
    }
}

/// <summary>A temporary folder deleted on dispose.</summary>
internal sealed class TempDir : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"llmeff-cli-{Guid.NewGuid():N}");

    public TempDir() => Directory.CreateDirectory(Path);

    public string File(string name, string? contents = null)
    {
        var path = System.IO.Path.Combine(Path, name);
        if (contents is not null)
        {
            System.IO.File.WriteAllText(path, contents);
        }

        return path;
    }

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
