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
