
namespace LlmEff.Profiling.Api.Tests.Profiling;

public sealed class OptionsTests
{
    private static readonly ApiProfilingOptions Valid = new() { JournalPath = "j.jsonl" };

    [Fact]
    public void Defaults_FollowThePaper()
    {
        Assert.Equal(new[] { 1, 256, 512, 1024, 1536 }, Valid.PromptTokens); // §3.4
        Assert.Equal(10, Valid.Trials); // Figure 6: minimum across 10 trials
        Assert.Equal(new[] { 1 }, Valid.ConcurrencyLevels);
        Assert.Equal(5 * 7 * 10, Valid.PlannedRequests);
        Assert.Equal(new[] { 1, 2, 4, 8, 12 }, ApiProfilingOptions.PowersOfTwo(12));
        Assert.Equal(new[] { 512 }, ApiProfilingOptions.LoadStudy("j", 8).PromptTokens); // Figure 6: p = 512
    }

    [Fact]
    public void BadOptions_NameTheValueAndTheFix()
    {
        Assert.Contains("-3", Assert.Throws<ArgumentOutOfRangeException>(() => (Valid with { PromptTokens = [1, -3] }).Validate()).Message, StringComparison.Ordinal);
        Assert.Contains("twice", Assert.Throws<ArgumentException>(() => (Valid with { OutputTokens = [4, 4] }).Validate()).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => (Valid with { ConcurrencyLevels = [] }).Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => (Valid with { OutputTokens = [0, 2] }).Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => (Valid with { Trials = 0 }).Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => (Valid with { RequestTimeout = TimeSpan.Zero }).Validate());
        Assert.Contains("price", Assert.Throws<ArgumentException>(() => new ProfilingBudget { MaxDollars = 5 }.Validate()).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => new ProfilingBudget { MaxRequests = -1 }.Validate());
    }

    [Fact]
    public void Budget_PricesTokens()
        => Assert.Equal(0.0035m, new ProfilingBudget { DollarsPerMillionPromptTokens = 1m, DollarsPerMillionOutputTokens = 2.5m }.Dollars(1000, 1000));
}
