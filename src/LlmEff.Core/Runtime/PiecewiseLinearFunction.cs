using System.Runtime.CompilerServices;

namespace LlmEff.Core;

/// <summary>
/// A continuous piecewise-linear function through a set of knots: linear interpolation between knots and,
/// outside them, extrapolation along the nearest segment. One knot gives a constant.
/// The paper's <c>prompt_encoding_time(p)</c> (§3.3) is one of these.
/// </summary>
/// <remarks>
/// Internally the function is kept in hinge form,
/// <c>f(x) = y₀ + b·(x − x₀) + Σₖ cₖ·max(0, x − xₖ)</c> over the interior knots, which needs no search and
/// vectorises; <see cref="Evaluate(double)"/> and the batch paths perform the same operations in the same
/// order, so they return bit-identical results.
/// </remarks>
public sealed class PiecewiseLinearFunction
{
    private readonly PiecewiseLinearKnot[] _knots;
    private readonly double _x0;
    private readonly double _y0;
    private readonly double _baseSlope;
    private readonly double[] _hingeX;
    private readonly double[] _hingeSlopeChange;

    /// <summary>Creates the function through <paramref name="knots"/> (any order; x values distinct and finite).</summary>
    /// <exception cref="ArgumentException">No knots, duplicate or non-finite coordinates.</exception>
    public PiecewiseLinearFunction(IEnumerable<PiecewiseLinearKnot> knots)
    {
        ArgumentNullException.ThrowIfNull(knots);
        _knots = knots.OrderBy(k => k.X).ToArray();
        if (_knots.Length == 0)
        {
            throw new ArgumentException("At least one knot is required; pass the (x, y) points the function must go through.", nameof(knots));
        }

        for (var i = 0; i < _knots.Length; i++)
        {
            var k = _knots[i];
            if (!double.IsFinite(k.X) || !double.IsFinite(k.Y))
            {
                throw new ArgumentException($"Knot ({k.X}, {k.Y}) is not finite; every knot coordinate must be a finite number.", nameof(knots));
            }

            if (i > 0 && k.X == _knots[i - 1].X)
            {
                throw new ArgumentException($"Two knots share x = {k.X}; combine them into one knot (e.g. average their y values) first.", nameof(knots));
            }
        }

        _x0 = _knots[0].X;
        _y0 = _knots[0].Y;
        var slopes = new double[Math.Max(0, _knots.Length - 1)];
        for (var i = 0; i < slopes.Length; i++)
        {
            slopes[i] = (_knots[i + 1].Y - _knots[i].Y) / (_knots[i + 1].X - _knots[i].X);
        }

        _baseSlope = slopes.Length > 0 ? slopes[0] : 0.0;
        var hinges = Math.Max(0, slopes.Length - 1);
        _hingeX = new double[hinges];
        _hingeSlopeChange = new double[hinges];
        for (var i = 0; i < hinges; i++)
        {
            _hingeX[i] = _knots[i + 1].X;
            _hingeSlopeChange[i] = slopes[i + 1] - slopes[i];
        }
    }

    /// <summary>Creates the function through the points (<paramref name="x"/>[i], <paramref name="y"/>[i]).</summary>
    public static PiecewiseLinearFunction FromPoints(ReadOnlySpan<double> x, ReadOnlySpan<double> y)
    {
        if (x.Length != y.Length)
        {
            throw new ArgumentException($"x has {x.Length} values but y has {y.Length}; pass one y per x.", nameof(y));
        }

        var knots = new PiecewiseLinearKnot[x.Length];
        for (var i = 0; i < x.Length; i++)
        {
            knots[i] = new PiecewiseLinearKnot(x[i], y[i]);
        }

        return new PiecewiseLinearFunction(knots);
    }

    /// <summary>The knots, sorted by x.</summary>
    public IReadOnlyList<PiecewiseLinearKnot> Knots => _knots;

    /// <summary>Smallest knot x; below it the function extrapolates.</summary>
    public double MinX => _knots[0].X;

    /// <summary>Largest knot x; above it the function extrapolates.</summary>
    public double MaxX => _knots[^1].X;

    /// <summary>True when every segment has a non-negative slope.</summary>
    public bool IsMonotoneNonDecreasing
    {
        get
        {
            for (var i = 1; i < _knots.Length; i++)
            {
                if (_knots[i].Y < _knots[i - 1].Y)
                {
                    return false;
                }
            }

            return true;
        }
    }

    internal double X0 => _x0;

    internal double Y0 => _y0;

    internal double BaseSlope => _baseSlope;

    internal ReadOnlySpan<double> HingeX => _hingeX;

    internal ReadOnlySpan<double> HingeSlopeChange => _hingeSlopeChange;

    /// <summary>True when <paramref name="x"/> lies outside [<see cref="MinX"/>, <see cref="MaxX"/>], so the value is extrapolated.</summary>
    public bool IsExtrapolated(double x) => x < MinX || x > MaxX;

    /// <summary>Value at <paramref name="x"/>: interpolated between knots, extrapolated along the nearest segment outside them.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public double Evaluate(double x)
    {
        var y = _y0 + (_baseSlope * (x - _x0));
        var hx = _hingeX;
        var hc = _hingeSlopeChange;
        for (var k = 0; k < hx.Length; k++)
        {
            y += hc[k] * Math.Max(0.0, x - hx[k]);
        }

        return y;
    }

    /// <summary>Slope of the segment that <paramref name="x"/> falls in (the nearest one outside the knots).</summary>
    public double SlopeAt(double x)
    {
        var s = _baseSlope;
        for (var k = 0; k < _hingeX.Length; k++)
        {
            if (x > _hingeX[k])
            {
                s += _hingeSlopeChange[k];
            }
        }

        return s;
    }

    /// <summary>Evaluates the function at every <paramref name="x"/> into <paramref name="destination"/>.</summary>
    public void Evaluate(ReadOnlySpan<double> x, Span<double> destination)
    {
        if (destination.Length < x.Length)
        {
            throw new ArgumentException($"destination holds {destination.Length} values but x has {x.Length}; pass a destination at least as long as x.", nameof(destination));
        }

        for (var i = 0; i < x.Length; i++)
        {
            destination[i] = Evaluate(x[i]);
        }
    }

    /// <inheritdoc />
    public override string ToString() => string.Join(", ", _knots.Select(k => FormattableString.Invariant($"({k.X:G6}, {k.Y:G6})")));
}
