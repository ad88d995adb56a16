namespace LlmEff.Cli.Tests;

/// <summary>Defects found in review of `llmeff profile api`.</summary>
public sealed class ProfileApiTimeoutTests
{
    // --timeout 1e7 (about 116 days) passes the flag check, then fails inside the run with .NET's timer message,
    // which names neither --timeout nor a fix. Nothing is contacted: the error comes before the first request is sent.
    [Fact]
    public void ProfileApi_TimeoutBeyondTimerRange_ErrorNamesTheFlag()
    {
        using var dir = new TempDir();
        var result = CliRunner.Run(
            "profile", "api", "--url", "http://127.0.0.1:9/v1/", "--model", "m", "--api-key-env", "",
            "--journal", System.IO.Path.Combine(dir.Path, "j.jsonl"), "--prompts", "1", "--outputs", "1,2", "--trials", "1",
            "--timeout", "1e7");
        CliRunner.AssertOneLineError(result, "--timeout");
    }
}
