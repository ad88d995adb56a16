namespace LlmEff.Core.Tests.Runtime;

public class PiecewiseLinearFunctionTests
{
    [Fact]
    public void Evaluate_PassesThroughKnotsAndInterpolates()
    {
        var f = PiecewiseLinearFunction.FromPoints([0, 10, 30], [1, 3, 2]);
        Assert.Equal(1, f.Evaluate(0), 1e-15);
        Assert.Equal(3, f.Evaluate(10), 1e-15);
        Assert.Equal(2, f.Evaluate(30), 1e-15);
        Assert.Equal(2, f.Evaluate(5), 1e-15);
        Assert.Equal(2.5, f.Evaluate(20), 1e-15);
        Assert.Equal(-1, f.Evaluate(-10), 1e-15); // first segment, slope 0.2
        Assert.Equal(1, f.Evaluate(50), 1e-15);   // last segment, slope -0.05
        Assert.False(f.IsMonotoneNonDecreasing);
        Assert.Equal(0.2, f.SlopeAt(-3), 1e-15);
        Assert.Equal(-0.05, f.SlopeAt(100), 1e-15);
    }

    [Fact]
    public void SingleKnot_IsConstant()
    {
        var f = new PiecewiseLinearFunction([new(5, 0.7)]);
        Assert.Equal(0.7, f.Evaluate(-100));
        Assert.Equal(0.7, f.Evaluate(1e6));
    }

    [Fact]
    public void UnsortedKnots_AreSorted()
    {
        var f = new PiecewiseLinearFunction([new(10, 1), new(0, 0)]);
        Assert.Equal(0, f.Knots[0].X);
        Assert.Equal(0.5, f.Evaluate(5), 1e-15);
    }

    [Fact]
    public void InvalidKnots_Throw()
    {
        Assert.Throws<ArgumentException>(() => new PiecewiseLinearFunction([]));
        Assert.Throws<ArgumentException>(() => new PiecewiseLinearFunction([new(1, 1), new(1, 2)]));
        Assert.Throws<ArgumentException>(() => new PiecewiseLinearFunction([new(double.NaN, 1)]));
        Assert.Throws<ArgumentException>(() => PiecewiseLinearFunction.FromPoints([1, 2], [1]));
    }

    [Fact]
    public void Property_ContinuousAtEveryKnot_AndMonotoneWhereKnotsAre()
    {
        var rng = new Random(11);
        for (var trial = 0; trial < 200; trial++)
        {
            var n = rng.Next(1, 9);
            var xs = Enumerable.Range(0, n).Select(_ => rng.Next(0, 5000)).Distinct().Select(x => (double)x).Order().ToArray();
            var monotone = rng.Next(2) == 0;
            var ys = new double[xs.Length];
            for (var i = 0; i < ys.Length; i++)
            {
                ys[i] = monotone ? (i == 0 ? rng.NextDouble() : ys[i - 1] + rng.NextDouble()) : rng.NextDouble() * 10;
            }

            var f = PiecewiseLinearFunction.FromPoints(xs, ys);
            var scale = 1 + ys.Max(Math.Abs);
            foreach (var k in f.Knots)
            {
                // Continuity: the limits from both sides agree with the knot value.
                Assert.Equal(k.Y, f.Evaluate(k.X), 1e-12 * scale);
                Assert.Equal(f.Evaluate(k.X), f.Evaluate(k.X - 1e-7), 1e-5 * scale);
                Assert.Equal(f.Evaluate(k.X), f.Evaluate(k.X + 1e-7), 1e-5 * scale);
            }

            if (monotone)
            {
                Assert.True(f.IsMonotoneNonDecreasing);
                var prev = double.NegativeInfinity;
                for (var x = xs[0] - 100; x <= xs[^1] + 100; x += 7.3)
                {
                    var y = f.Evaluate(x);
                    Assert.True(y >= prev - (1e-12 * scale), $"not monotone at x = {x}");
                    prev = y;
                }
            }

            // Between two knots the function is the straight line through them.
            for (var i = 0; i + 1 < xs.Length; i++)
            {
                var mid = 0.5 * (xs[i] + xs[i + 1]);
                Assert.Equal(0.5 * (ys[i] + ys[i + 1]), f.Evaluate(mid), 1e-9 * scale);
            }
        }
    }
}
