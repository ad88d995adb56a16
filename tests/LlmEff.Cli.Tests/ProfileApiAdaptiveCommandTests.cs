using LlmEff.Core.Serialization;
using LlmEff.Profiling.Api.Tests.Emulator;
using Microsoft.Extensions.Time.Testing;

namespace LlmEff.Cli.Tests;

/// <summary><c>llmeff profile api --adaptive</c>: the planner's queries, its own estimate, resume and the stopping target.</summary>
public class ProfileApiAdaptiveCommandTests
{
    // An adaptive run of one request a query over 8 prompt sizes × 4 output lengths, journaled in dir.
    private static string[] AdaptiveRun(OpenAiEmulator emulator, TempDir dir, int budget) =>
    [
        "profile", "api", "--url", emulator.BaseAddress.ToString(), "--model", "emulated", "--api-key-env", "", "--token-ids",
        "--journal", dir.File("adaptive.jsonl"), "--prompts", "1,32,64,128,192,256,384,512", "--outputs", "1,8,16,32", "--trials", "1",
        "--adaptive", budget.ToString(System.Globalization.CultureInfo.InvariantCulture),
    ];

    [Fact]
    public async Task ProfileApi_Adaptive_AsksThePlannersQueries_PrintsItsOwnEstimate_AndResumes()
    {
        await using var emulator = await OpenAiEmulator.StartAsync(new EmulatedLatency(), seed: 7);
        var clock = new FakeTimeProvider();
        emulator.VirtualClock = clock;
        using var dir = new TempDir();
        string[] args = [.. AdaptiveRun(emulator, dir, budget: 14), "-o", dir.File("model.json")];

        var run = CliRunner.RunOn(clock, args);

        Assert.True(run.Code == 0, run.Err);
        // 14 queries of one request: 12 configurations (every prompt size anchored, four sweeps), then the two shortest anchors again.
        Assert.Equal(14, emulator.ReceivedCount);
        Assert.Contains("adaptive: the fit's own estimate at the 20 candidates not measured: median", run.Out, StringComparison.Ordinal);
        Assert.Contains("one request's noise, read from 2 repeated queries:", run.Out, StringComparison.Ordinal);
        // One trial a query: each sweep's two ends carry their own prompt noise (mean 4 ms, over 7 to 31 steps of g).
        Assert.Equal(0.002, RuntimeModelJson.Load(dir.File("model.json")).PerOutputTokenSeconds, 5e-4);

        var again = CliRunner.RunOn(clock, args);
        Assert.True(again.Code == 0, again.Err);
        Assert.Equal(14, emulator.ReceivedCount);
        Assert.Equal(run.Out.Split('\n').Where(l => l.StartsWith("  PE(", StringComparison.Ordinal)), again.Out.Split('\n').Where(l => l.StartsWith("  PE(", StringComparison.Ordinal)));

        // A budget that ends before every prompt size is anchored repeats nothing: the noise is said to be unread, not 0 ms.
        var small = CliRunner.RunOn(clock, [.. args.Select(a => a == "14" ? "10" : a.EndsWith("adaptive.jsonl", StringComparison.Ordinal) ? dir.File("small.jsonl") : a)]);
        Assert.True(small.Code == 0, small.Err);
        Assert.Contains("no query was measured twice, so it leaves out the noise of one request and may read low", small.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("repeated queries", small.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ProfileApi_AdaptiveWithATarget_StopsOnceItIsMet_AndSaysSo()
    {
        await using var emulator = await OpenAiEmulator.StartAsync(new EmulatedLatency(), seed: 7);
        var clock = new FakeTimeProvider();
        emulator.VirtualClock = clock;
        using var dir = new TempDir();
        string[] args = [.. AdaptiveRun(emulator, dir, budget: 30), "--target-p90", "0.5"];

        var run = CliRunner.RunOn(clock, args);

        Assert.True(run.Code == 0, run.Err);
        // Eight anchors and the seed's three sweeps, then the first repeat reads the noise and the loose target is met.
        Assert.Equal(12, emulator.ReceivedCount);
        Assert.Contains("stopped: TargetReached", run.Out, StringComparison.Ordinal);

        var bad = CliRunner.RunOn(clock, [.. args.Select(a => a == "0.5" ? "5" : a)]);
        CliRunner.AssertOneLineError(bad, "--target-p90 5", "between 0 and 1");
        var gridRun = CliRunner.RunOn(clock, ["profile", "api", "--url", emulator.BaseAddress.ToString(), "--model", "emulated", "--api-key-env", "", "--journal", dir.File("grid.jsonl"), "--prompts", "1,64", "--outputs", "1,8", "--target-p90", "0.05"]);
        CliRunner.AssertOneLineError(gridRun, "--target-p90", "give --adaptive N too");
        Assert.Equal(12, emulator.ReceivedCount);
    }
}
