namespace LlmEff.Core;

/// <summary>
/// The one percentile definition of this library: linear interpolation between closest ranks (Hyndman and Fan's
/// type 7, the default of NumPy's <c>percentile</c>, R's <c>quantile</c> and Excel's <c>PERCENTILE.INC</c>). For
/// <c>n</c> values sorted ascending, <c>x[0] ≤ … ≤ x[n−1]</c>, and a percent <c>P</c> in [0, 100], the position is
/// <c>h = (n − 1)·P/100</c> and the percentile is <c>x[⌊h⌋] + (h − ⌊h⌋)·(x[⌊h⌋+1] − x[⌊h⌋])</c>: <c>P = 0</c> is the
/// minimum, <c>P = 100</c> the maximum and <c>P = 50</c> the usual median (the mean of the two middle values when
/// <c>n</c> is even). Every median, percentile and interval in the library's summaries uses it.
/// </summary>
/// <remarks>
/// Type 7 is chosen because it is what NumPy, R and spreadsheets report by default, so a number from this library can
/// be checked against them without naming a method. Values must be finite: a NaN has no rank, and an infinity makes the
/// interpolation undefined, so both are refused rather than propagated into a summary.
/// </remarks>
public static class Percentiles
{
    /// <summary>The <paramref name="percent"/>-th percentile of <paramref name="values"/> (any order), by linear interpolation between closest ranks.</summary>
    /// <param name="values">At least one finite value.</param>
    /// <param name="percent">From 0 (the minimum) to 100 (the maximum); 90 for the 90th percentile.</param>
    /// <exception cref="ArgumentNullException"><paramref name="values"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="values"/> is empty or holds a NaN or an infinity.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="percent"/> is outside [0, 100] or NaN.</exception>
    public static double Of(IEnumerable<double> values, double percent)
    {
        ArgumentNullException.ThrowIfNull(values);
        CheckPercent(percent);
        var sorted = values.ToArray();
        CheckValues(sorted, nameof(values));
        Array.Sort(sorted);
        return Interpolate(sorted, percent);
    }

    /// <summary>
    /// The <paramref name="percent"/>-th percentile of values already sorted ascending: the same definition as
    /// <see cref="Of"/> without a sort, for taking several percentiles of one set.
    /// </summary>
    /// <param name="sorted">At least one finite value, in ascending order.</param>
    /// <param name="percent">From 0 (the minimum) to 100 (the maximum).</param>
    /// <exception cref="ArgumentNullException"><paramref name="sorted"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="sorted"/> is empty, holds a NaN or an infinity, or is not in ascending order.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="percent"/> is outside [0, 100] or NaN.</exception>
    public static double OfSorted(IReadOnlyList<double> sorted, double percent)
    {
        ArgumentNullException.ThrowIfNull(sorted);
        CheckPercent(percent);
        CheckValues(sorted, nameof(sorted));
        for (var i = 1; i < sorted.Count; i++)
        {
            if (sorted[i] < sorted[i - 1])
            {
                throw new ArgumentException($"The values are not in ascending order: {nameof(sorted)}[{i}] = {sorted[i]} follows {sorted[i - 1]}; sort them first or call {nameof(Percentiles)}.{nameof(Of)}.", nameof(sorted));
            }
        }

        return Interpolate(sorted, percent);
    }

    /// <summary>The median of <paramref name="values"/>: <see cref="Of"/> at 50, the mean of the two middle values when their count is even.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="values"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="values"/> is empty or holds a NaN or an infinity.</exception>
    public static double Median(IEnumerable<double> values) => Of(values, 50);

    /// <summary>
    /// The <paramref name="percent"/>-th percentile of <paramref name="values"/> where value <c>i</c> counts with weight
    /// <c>weights[i]</c>: the weighted form of type 7 by Akinshin (2023, "Weighted quantile estimators"). With normalised
    /// cumulative weights <c>t[0] = 0 &lt; t[1] &lt; … &lt; t[n] = 1</c> over the sorted values, Kish's effective sample size
    /// <c>n* = (Σw)² / Σw²</c> and <c>h = (n* − 1)·P/100 + 1</c>, the result is <c>Σ x[i]·(F(t[i+1]) − F(t[i]))</c> with
    /// <c>F</c> the uniform distribution function on <c>[(h − 1)/n*, h/n*]</c>: an average of the values whose cumulative
    /// weight falls in a window of width <c>1/n*</c>. When all weights are equal (<c>n* = n</c>) that window covers the two
    /// values type 7 interpolates between, in type 7's proportions, and the result is <see cref="Of"/>'s bit for bit: the
    /// weights are taken relative to the largest (so equal ones are exactly 1) and the average is summed from the nearer end
    /// as <see cref="Of"/> interpolates. With unequal weights, <c>P = 0</c> and <c>P = 100</c> average the smallest
    /// (largest) values over the window rather than return the extreme one.
    /// </summary>
    /// <param name="values">At least one finite value, any order.</param>
    /// <param name="weights">One positive finite weight per value; only their ratios matter.</param>
    /// <param name="percent">From 0 to 100.</param>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">No values, a NaN or infinite value, a weight count that differs from the value count, or a weight that is not positive and finite.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="percent"/> is outside [0, 100] or NaN.</exception>
    public static double Weighted(IReadOnlyList<double> values, IReadOnlyList<double> weights, double percent)
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentNullException.ThrowIfNull(weights);
        CheckPercent(percent);
        CheckValues(values, nameof(values));
        if (weights.Count != values.Count)
        {
            throw new ArgumentException($"{weights.Count} weights for {values.Count} values; pass one weight per value.", nameof(weights));
        }

        for (var i = 0; i < weights.Count; i++)
        {
            if (!(weights[i] > 0) || !double.IsFinite(weights[i]))
            {
                throw new ArgumentException($"{nameof(weights)}[{i}] is {weights[i]}; weights must be positive and finite (leave out values that should not count).", nameof(weights));
            }
        }

        var result = WeightedCore(values, weights, percent);
        // Values near ±double.MaxValue: a difference of two overflows. Halving is exact, so the halves' percentile, doubled, is it.
        return double.IsFinite(result) ? result : 2 * WeightedCore(values.Select(v => v / 2).ToArray(), weights, percent);
    }

    private static double WeightedCore(IReadOnlyList<double> values, IReadOnlyList<double> weights, double percent)
    {
        var order = Enumerable.Range(0, values.Count).OrderBy(i => values[i]).ToArray();
        var x = order.Select(i => values[i]).ToArray();

        // Only the weights' ratios matter; relative to the largest, equal weights are exactly 1, so their sums below are
        // whole numbers and the positions are those of Of, bit for bit.
        var largest = weights.Max();
        var relative = order.Select(i => weights[i] / largest).ToArray();
        double total = 0, squares = 0;
        foreach (var r in relative)
        {
            total += r;
            squares += r * r;
        }

        // Positions in units of 1/n*: value k spans [u[k], u[k + 1]] and the window [pos, pos + 1], where pos is type 7's
        // position (n* − 1)·P/100 (Of's, when n* = n).
        var effectiveCount = total * total / squares;
        var scale = effectiveCount / total;
        var u = new double[x.Length + 1];
        double cumulative = 0;
        for (var k = 0; k < x.Length; k++)
        {
            cumulative += relative[k];
            u[k + 1] = scale * cumulative;
        }

        var pos = (effectiveCount - 1) * (percent / 100);

        // The values the window covers: from the one holding its lower end to the one holding its upper end.
        var first = 0;
        while (first + 1 < x.Length && u[first + 1] <= pos)
        {
            first++;
        }

        var last = first;
        while (last + 1 < x.Length && u[last + 1] - pos < 1)
        {
            last++;
        }

        if (first == last)
        {
            return x[first];
        }

        // The window average Σ x[k]·share[k], summed by parts from the end nearer the result, as Of interpolates (this keeps
        // it within the covered values and, for equal weights, makes it Of's a + (b − a)·f or b − (b − a)·(1 − f)).
        // Above(k): the window's share at or after value k; Below(k): its share before value k.
        double Above(int k) => Math.Clamp(pos - (u[k] - 1), 0, 1);
        double Below(int k) => Math.Clamp(u[k] - pos, 0, 1);
        if (Above(first + 1) < 0.5)
        {
            var fromBelow = x[first];
            for (var k = first + 1; k <= last; k++)
            {
                fromBelow += (x[k] - x[k - 1]) * Above(k);
            }

            return fromBelow;
        }

        var fromAbove = x[last];
        for (var k = last; k > first; k--)
        {
            fromAbove -= (x[k] - x[k - 1]) * Below(k);
        }

        return fromAbove;
    }

    private static double Interpolate(IReadOnlyList<double> sorted, double percent)
    {
        var h = (sorted.Count - 1) * (percent / 100);
        var below = (int)Math.Floor(h);
        var fraction = h - below;
        if (below >= sorted.Count - 1 || fraction == 0)
        {
            return sorted[Math.Min(below, sorted.Count - 1)];
        }

        var a = sorted[below];
        var b = sorted[below + 1];
        if (!double.IsFinite(b - a))
        {
            // Values near ±double.MaxValue: their difference overflows. Halving is exact, so interpolate the halves and double.
            double ha = a / 2, hb = b / 2;
            return 2 * (fraction < 0.5 ? ha + ((hb - ha) * fraction) : hb - ((hb - ha) * (1 - fraction)));
        }

        // Interpolating from the nearer end, as NumPy does, keeps the result within [a, b] and exact at both ends.
        return fraction < 0.5 ? a + ((b - a) * fraction) : b - ((b - a) * (1 - fraction));
    }

    private static void CheckPercent(double percent)
    {
        if (!(percent >= 0 && percent <= 100))
        {
            throw new ArgumentOutOfRangeException(nameof(percent), percent, "A percent runs from 0 (the minimum) to 100 (the maximum); pass 90, not 0.9, for the 90th percentile.");
        }
    }

    private static void CheckValues(IReadOnlyList<double> values, string argument)
    {
        if (values.Count == 0)
        {
            throw new ArgumentException("There are no values to take a percentile of; pass at least one.", argument);
        }

        for (var i = 0; i < values.Count; i++)
        {
            if (!double.IsFinite(values[i]))
            {
                throw new ArgumentException($"{argument}[{i}] is {values[i]}; percentiles need finite values, so drop or fix missing and failed measurements first.", argument);
            }
        }
    }
}
