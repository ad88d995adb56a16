namespace LlmEff.Core.Tests.Runtime;

public class PercentilesTests
{
    // Expected values are NumPy's np.percentile (method "linear", its default), which Excel's PERCENTILE.INC and R's
    // quantile(type = 7) also give; the first five are the worked example of the type-7 definition.
    [Theory]
    [InlineData(new[] { 15.0, 20, 35, 40, 50 }, 5, 16.0)]
    [InlineData(new[] { 15.0, 20, 35, 40, 50 }, 30, 23.0)]
    [InlineData(new[] { 15.0, 20, 35, 40, 50 }, 40, 29.0)]
    [InlineData(new[] { 15.0, 20, 35, 40, 50 }, 50, 35.0)]
    [InlineData(new[] { 15.0, 20, 35, 40, 50 }, 100, 50.0)]
    [InlineData(new[] { 1.0, 2, 3, 4 }, 90, 3.7)]
    [InlineData(new[] { 1.0, 2, 3, 4, 5, 6, 7, 8, 9, 10 }, 25, 3.25)]
    [InlineData(new[] { 1.0, 2, 3, 4, 5, 6, 7, 8, 9, 10 }, 90, 9.1)]
    [InlineData(new[] { 10.0, 3.3, 0.1, 7.7, 0.5, 0.2 }, 2.5, 0.1125)]
    [InlineData(new[] { 10.0, 3.3, 0.1, 7.7, 0.5, 0.2 }, 97.5, 9.7125)]
    public void Of_MatchesNumPy(double[] values, double percent, double expected)
        => Assert.Equal(expected, Percentiles.Of(values, percent), 12);

    [Fact]
    public void Of_EndsAreMinimumAndMaximum_AndOrderDoesNotMatter()
    {
        double[] values = [4, -2, 9, 0.5];
        Assert.Equal(-2, Percentiles.Of(values, 0));
        Assert.Equal(9, Percentiles.Of(values, 100));
        Assert.Equal(Percentiles.OfSorted([-2, 0.5, 4, 9], 37), Percentiles.Of(values, 37));
    }

    [Fact]
    public void Of_OneValue_IsThatValueAtEveryPercent()
    {
        foreach (var p in new[] { 0.0, 12.5, 50, 90, 100 })
        {
            Assert.Equal(7.25, Percentiles.Of([7.25], p));
        }
    }

    [Fact]
    public void Median_IsTheMiddleOrTheMeanOfTheTwoMiddles()
    {
        Assert.Equal(2, Percentiles.Median([3, 1, 2]));
        Assert.Equal(2.5, Percentiles.Median([4, 1, 3, 2]));
    }

    [Fact]
    public void Of_Empty_Throws()
    {
        var e = Assert.Throws<ArgumentException>(() => Percentiles.Of([], 50));
        Assert.Equal("values", e.ParamName);
        Assert.Contains("no values", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void Of_NonFiniteValue_ThrowsNamingIt(double bad)
    {
        var e = Assert.Throws<ArgumentException>(() => Percentiles.Of([1, bad, 3], 50));
        Assert.Equal("values", e.ParamName);
        Assert.Contains("values[1]", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(100.5)]
    [InlineData(double.NaN)]
    public void Of_PercentOutOfRange_Throws(double percent)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Percentiles.Of([1, 2], percent));
        Assert.Equal("percent", e.ParamName);
    }

    [Fact]
    public void OfSorted_RefusesUnsortedValues()
    {
        var e = Assert.Throws<ArgumentException>(() => Percentiles.OfSorted([1, 3, 2], 50));
        Assert.Contains("ascending", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(10)]
    [InlineData(50)]
    [InlineData(90)]
    [InlineData(100)]
    public void Weighted_EqualWeights_IsOf(double percent)
    {
        // One percentile definition: with equal weights the weighted form is Of bit for bit, not just to rounding, so a
        // summary does not change in its last digit with how its points happen to be weighted.
        double[] values = [0.3, 0.01, 0.2, 0.05, 0.11, 0.07, 0.4];
        var weights = Enumerable.Repeat(0.1, values.Length).ToArray();
        Assert.Equal(Percentiles.Of(values, percent), Percentiles.Weighted(values, weights, percent));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(25)]
    [InlineData(50)]
    [InlineData(90)]
    [InlineData(100)]
    public void Weighted_EqualWeightsThatDoNotSumExactly_IsOfExactly(double percent)
    {
        // Weights of 1/7 do not add up to 1 in floating point; P = 0 once came out a hair above the minimum.
        double[] values = [0.01, 0.02, 0.05, 0.07, 0.11, 0.13, 0.2];
        var weights = values.Select(_ => 1.0 / 7).ToArray();
        Assert.Equal(Percentiles.Of(values, percent), Percentiles.Weighted(values, weights, percent));
    }

    [Fact]
    public void Weighted_MatchesTheWindowAverageAsDefined()
    {
        // The summation by parts (nearer end first) is the documented window average Σ x[i]·(F(t[i+1]) − F(t[i])),
        // computed here directly, for random values, weights (ties and dominant weights included) and percents.
        var rng = new Random(7);
        for (var trial = 0; trial < 500; trial++)
        {
            var n = rng.Next(1, 12);
            var values = Enumerable.Range(0, n).Select(_ => Math.Round(rng.NextDouble() * 10, rng.Next(0, 3))).ToArray();
            var weights = Enumerable.Range(0, n).Select(_ => rng.Next(4) == 0 ? 50 * rng.NextDouble() + 1e-3 : rng.NextDouble() + 1e-3).ToArray();
            var percent = rng.Next(3) == 0 ? rng.Next(0, 2) * 100.0 : rng.NextDouble() * 100;

            Assert.Equal(WindowAverage(values, weights, percent), Percentiles.Weighted(values, weights, percent), 9);
        }
    }

    private static double WindowAverage(double[] values, double[] weights, double percent)
    {
        var order = Enumerable.Range(0, values.Length).OrderBy(i => values[i]).ToArray();
        double total = weights.Sum(), squares = weights.Sum(w => w * w);
        var effective = total * total / squares;
        var h = ((effective - 1) * percent / 100) + 1;
        double lower = (h - 1) / effective, upper = h / effective;
        double F(double t) => Math.Clamp((t - lower) / (upper - lower), 0, 1);
        double result = 0, cumulative = 0;
        foreach (var i in order)
        {
            var start = cumulative / total;
            cumulative += weights[i];
            result += values[i] * (F(cumulative / total) - F(start));
        }

        return result;
    }

    [Fact]
    public void Weighted_UnequalWeights_AveragesOverTheWindow()
    {
        // n* = (1 + 1 + 2)² / (1 + 1 + 4) = 8/3; the median's window [(h − 1)/n*, h/n*] with h = 11/6 is [5/16, 11/16] of
        // the cumulative weight: 3/16 of it over value 2 (cumulative 1/4 to 1/2), 3/16 over value 3 (1/2 to 1), so 2.5.
        Assert.Equal(2.5, Percentiles.Weighted([1, 2, 3], [1, 1, 2], 50), 12);
        Assert.Equal(2.5, Percentiles.Weighted([3, 1, 2], [2, 1, 1], 50), 12);

        // The 90th percentile's window [(n* − 1)·0.9/n*, ((n* − 1)·0.9 + 1)/n*] = [9/16, 15/16], all over value 3.
        Assert.Equal(3, Percentiles.Weighted([1, 2, 3], [1, 1, 2], 90), 12);
    }

    [Fact]
    public void Weighted_HeavyValueDominates_AndOnlyRatiosMatter()
    {
        double[] values = [1, 2, 3];
        var median = Percentiles.Weighted(values, [1, 1, 100], 50);
        Assert.InRange(median, 2.99, 3.0);
        Assert.Equal(median, Percentiles.Weighted(values, [0.01, 0.01, 1], 50), 12);
        Assert.Equal(5, Percentiles.Weighted([5], [0.3], 90));
    }

    [Fact]
    public void Weighted_BadWeights_Throw()
    {
        Assert.Throws<ArgumentException>(() => Percentiles.Weighted([1, 2], [1], 50));
        var e = Assert.Throws<ArgumentException>(() => Percentiles.Weighted([1, 2], [1, 0], 50));
        Assert.Contains("weights[1]", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => Percentiles.Weighted([1, 2], [1, double.NaN], 50));
    }

    [Fact]
    public void ErrorSummary_UsesTheSameDefinition()
    {
        double[] errors = [0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.07, 0.08, 0.09, 0.10];
        var summary = ErrorSummary.FromRelativeErrors(errors.Select(e => -e));
        Assert.Equal(0.055, summary.Median, 12);
        Assert.Equal(0.091, summary.P90, 12);
    }

    [Fact]
    public void ErrorSummary_NonFiniteError_IsNamedAtTheCallersIndex()
    {
        // The errors are sorted into a copy before they are summarised; a NaN must be reported as the caller's argument
        // and position, not the copy's (a NaN sorts first, so its index there would point elsewhere).
        var ex = Assert.ThrowsAny<ArgumentException>(() => ErrorSummary.FromRelativeErrors([0.1, double.NaN]));

        Assert.Equal("relativeErrors", ex.ParamName);
        Assert.Contains("relativeErrors[1]", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Values_near_the_largest_double_do_not_overflow()
    {
        // Their differences overflow; the percentile of finite values is finite, and here exactly what halving gives.
        Assert.Equal(0, Percentiles.Of([-1e308, 1e308], 50));
        Assert.Equal(-0.68e308, Percentiles.Of([-1.7e308, 1.7e308], 30), 1e294); // a + (b − a)·0.3
        Assert.True(double.IsFinite(Percentiles.Of([-1.7e308, 1.7e308], 70)));
        Assert.Equal(0, Percentiles.Weighted([-1e308, 1e308], [1, 1], 50));
        Assert.True(double.IsFinite(Percentiles.Weighted([-1.7e308, 1.7e308, 1.7e308], [1, 2, 1], 30)));
    }
}
