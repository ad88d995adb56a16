using LlmEff.Core.Evaluation;

namespace LlmEff.Core.Tests.Evaluation;

public class AccuracyTargetTests
{
    private static ProfilingGrid Grid(double wobble)
        => new("g", from p in new[] { 1, 64, 128, 256, 512, 768, 1024 }
                    from o in new[] { 1, 2, 8, 32 }
                    select new ProfilingSample(p, o, (0.02 + (0.0001 * p) + (0.02 * (o - 1))) * (1 + (wobble * (((p + o) % 3) - 1)))));

    [Fact]
    public void For_AnExactGrid_KeepsTheFixedBar()
    {
        var target = AccuracyTarget.For(Grid(0));
        Assert.True(target.Floor.P90 < 1e-9);
        Assert.Equal(AccuracyTarget.DefaultP90, target.P90Bar);
        Assert.Equal(AccuracyTarget.DefaultMax, target.MaxBar);
        Assert.True(target.IsMetBy(new ErrorSummary(10, 0.01, 0.02, 0.08, 0.01)));
        Assert.False(target.IsMetBy(new ErrorSummary(10, 0.01, 0.021, 0.05, 0.01)));
    }

    [Fact]
    public void For_ANoisyGrid_RelaxesTheBarToItsFloor()
    {
        // ±10% point-to-point wobble no runtime model can fit: the floor rises and the bar follows it.
        var target = AccuracyTarget.For(Grid(0.10));
        Assert.True(target.Floor.P90 > 0.02);
        Assert.Equal(1.25 * target.Floor.P90, target.P90Bar, 12);
        Assert.Equal(Math.Max(0.08, 2 * target.Floor.Max), target.MaxBar, 12);
    }

    [Fact]
    public void For_OutOfRangeTargets_NameTheArgument()
    {
        Assert.Equal("p90", Assert.Throws<ArgumentOutOfRangeException>(() => AccuracyTarget.For(Grid(0), p90: 0)).ParamName);
        Assert.Equal("max", Assert.Throws<ArgumentOutOfRangeException>(() => AccuracyTarget.For(Grid(0), max: double.NaN)).ParamName);
        var inverted = Assert.Throws<ArgumentOutOfRangeException>(() => AccuracyTarget.For(Grid(0), p90: 0.05, max: 0.03));
        Assert.Equal("max", inverted.ParamName);
        Assert.Contains("below the p90 target", inverted.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CompareMethods_ATooSmallGrid_SaysWhatItNeeds()
    {
        var small = new ProfilingGrid("small", from p in new[] { 1, 64, 128, 256, 512 } from o in new[] { 1, 2, 4, 8 } select new ProfilingSample(p, o, 0.02 + (0.0001 * p) + (0.02 * (o - 1))));
        var e = Assert.Throws<ArgumentException>(() => AccuracyStudy.CompareMethods(small, TestContext.Current.CancellationToken));
        Assert.Contains("5 prompt sizes × 4 output lengths", e.Message, StringComparison.Ordinal);
        Assert.Contains("at least 6 prompt sizes", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CompareMethods_ASmallGridWithoutThePapersPromptSizes_Works()
    {
        var grid = new ProfilingGrid("six", from p in new[] { 10, 100, 300, 600, 900, 1200 } from o in new[] { 1, 4, 16 } select new ProfilingSample(p, o, 0.02 + (0.0001 * p) + (0.02 * (o - 1))));
        var methods = AccuracyStudy.CompareMethods(grid, TestContext.Current.CancellationToken);
        var paper = methods.Single(m => m.Method == AccuracyStudy.Paper);
        Assert.Equal(15, paper.Queries); // the nearest grid prompt sizes 10, 300, 600, 900, 1200 × 3 output lengths
        Assert.True(methods.Single(m => m.Method == AccuracyStudy.Adaptive).Queries <= 15);
        Assert.NotEmpty(AccuracyStudy.BudgetCurve(grid, [10, 15, 50], TestContext.Current.CancellationToken));
    }
}
