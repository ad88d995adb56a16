namespace LlmEff.Core;

/// <summary>Shape-aware post-processing of fitted <c>PE</c> knots.</summary>
internal static class PromptEncodingKnots
{
    /// <summary>Weighted isotonic regression (pool adjacent violators) of the knot values in order of p.</summary>
    public static List<PiecewiseLinearKnot> MakeMonotone(List<PiecewiseLinearKnot> knots, List<double> weights)
    {
        var order = Enumerable.Range(0, knots.Count).OrderBy(i => knots[i].X).ToArray();
        var blockValue = new List<double>();
        var blockWeight = new List<double>();
        var blockSize = new List<int>();
        foreach (var i in order)
        {
            blockValue.Add(knots[i].Y);
            blockWeight.Add(weights[i]);
            blockSize.Add(1);
            while (blockValue.Count > 1 && blockValue[^2] > blockValue[^1])
            {
                var w = blockWeight[^2] + blockWeight[^1];
                var v = ((blockValue[^2] * blockWeight[^2]) + (blockValue[^1] * blockWeight[^1])) / w;
                var size = blockSize[^2] + blockSize[^1];
                blockValue.RemoveAt(blockValue.Count - 1);
                blockWeight.RemoveAt(blockWeight.Count - 1);
                blockSize.RemoveAt(blockSize.Count - 1);
                blockValue[^1] = v;
                blockWeight[^1] = w;
                blockSize[^1] = size;
            }
        }

        var result = new List<PiecewiseLinearKnot>(knots.Count);
        var k = 0;
        for (var b = 0; b < blockValue.Count; b++)
        {
            for (var j = 0; j < blockSize[b]; j++, k++)
            {
                result.Add(new PiecewiseLinearKnot(knots[order[k]].X, blockValue[b]));
            }
        }

        return result;
    }

    /// <summary>Keeps the end points, then repeatedly the knot the current interpolant misses by most, up to <paramref name="maximum"/>.</summary>
    public static List<PiecewiseLinearKnot> SelectWhereCurveBends(List<PiecewiseLinearKnot> knots, int maximum)
    {
        var sorted = knots.OrderBy(k => k.X).ToList();
        var chosen = new SortedSet<int> { 0, sorted.Count - 1 };
        while (chosen.Count < maximum)
        {
            var f = new PiecewiseLinearFunction(chosen.Select(i => sorted[i]));
            var worst = -1;
            var worstError = -1.0;
            for (var i = 0; i < sorted.Count; i++)
            {
                if (chosen.Contains(i))
                {
                    continue;
                }

                var error = Math.Abs(f.Evaluate(sorted[i].X) - sorted[i].Y);
                if (error > worstError)
                {
                    worstError = error;
                    worst = i;
                }
            }

            chosen.Add(worst);
        }

        return chosen.Select(i => sorted[i]).ToList();
    }
}
