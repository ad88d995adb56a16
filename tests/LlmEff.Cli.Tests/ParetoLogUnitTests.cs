namespace LlmEff.Cli.Tests;

public class ParetoLogUnitTests
{
    [Theory]
    [InlineData("NaN")]
    [InlineData("Infinity")]
    public void Pareto_NonFiniteLogUnit_FailsWithOneLineError(string logUnit)
    {
        using var dir = new TempDir();
        var csv = System.IO.Path.Combine(dir.Path, "acc.csv");
        File.WriteAllText(csv, "model,accuracy,runtime\na,0.5,0.5\nb,0.7,2\n");
        var result = CliRunner.Run("pareto", "-a", csv, "--metric", "runtime", "--log-unit", logUnit);
        // today: exit 0, f2 column all '-', note "the smallest runtime is 0.5, at or below the log unit NaN"
        CliRunner.AssertOneLineError(result, "--log-unit");
    }
}
