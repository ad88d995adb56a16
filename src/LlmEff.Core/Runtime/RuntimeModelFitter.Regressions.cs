using MathNet.Numerics.LinearAlgebra;

namespace LlmEff.Core;

/// <summary>The regressions of the two-step fit: one line per prompt size, then the decode parameters across them.</summary>
internal static partial class RuntimeModelFitter
{
    internal static double ContextSum(int promptTokens, int outputTokens)
    {
        double steps = outputTokens - 1;
        return steps * ((2.0 * promptTokens) + (outputTokens - 2.0)) * 0.5;
    }

    /// <summary>
    /// Σ over the steps' contexts <c>i = p … p + o − 2</c> of <c>max(0, i − knee)</c>: the hinge's context term (the batch
    /// path of <see cref="RuntimeModel.PredictBatch(ReadOnlySpan{int}, ReadOnlySpan{int}, Span{double})"/> repeats these operations).
    /// </summary>
    internal static double ContextSum(int promptTokens, int outputTokens, int kneeTokens)
    {
        if (kneeTokens == 0)
        {
            return ContextSum(promptTokens, outputTokens);
        }

        double lo = Math.Max(promptTokens, kneeTokens);
        var hi = (double)promptTokens + outputTokens - 2.0; // in double: the int sum of extreme sizes wraps
        var n = Math.Max(0.0, hi - lo + 1);
        return n * (lo + hi - (2.0 * kneeTokens)) * 0.5;
    }

    /// <summary>What a per-prompt line in o − 1 leaves of the context sum: its curvature in o (per unit g1).</summary>
    private static double Curvature(int promptTokens, int outputTokens, int kneeTokens)
    {
        double steps = outputTokens - 1;
        return kneeTokens == 0
            ? steps * (outputTokens - 2) * 0.5
            : ContextSum(promptTokens, outputTokens, kneeTokens) - (steps * Math.Max(0, promptTokens - kneeTokens));
    }

    private static PromptSizeFit FitLine(Point[] points, Group group, double curvature, bool robust, int knee)
    {
        // A straight line has a closed-form least-squares solution; with x and y centred it is as accurate as a QR
        // solve, and at this size (a few rows) MathNet's QR cost 8 us per prompt size, 80% of a paper-grid fit.
        var n = group.End - group.Start;
        var x = new double[n];
        var y = new double[n];
        for (var i = 0; i < n; i++)
        {
            var pt = points[group.Start + i];
            double steps = pt.OutputTokens - 1;
            x[i] = steps;
            y[i] = pt.Seconds - (curvature * Curvature(pt.PromptTokens, pt.OutputTokens, knee));
        }

        var (intercept, slope) = WeightedLine(x, y, null);
        if (robust && group.DistinctOutputs >= 3)
        {
            var weights = new double[n];
            for (var iteration = 0; iteration < HuberIterations; iteration++)
            {
                var lineResiduals = new double[n];
                for (var i = 0; i < n; i++)
                {
                    lineResiduals[i] = y[i] - intercept - (slope * x[i]);
                }

                HuberWeights(lineResiduals, weights);
                (intercept, slope) = WeightedLine(x, y, weights);
            }
        }

        var meanY = y.Average();
        var residuals = new SampleResidual[n];
        double ssRes = 0, ssTot = 0;
        for (var i = 0; i < n; i++)
        {
            var pt = points[group.Start + i];
            var fitted = intercept + (slope * x[i]);
            residuals[i] = new SampleResidual(pt.PromptTokens, pt.OutputTokens, pt.Seconds, pt.Seconds - y[i] + fitted);
            ssRes += (y[i] - fitted) * (y[i] - fitted);
            ssTot += (y[i] - meanY) * (y[i] - meanY);
        }

        return new PromptSizeFit(points[group.Start].PromptTokens, intercept, slope, RSquared(ssRes, ssTot), n, group.DistinctOutputs, residuals);
    }

    private static (double G0, double G1) FitDecode(Point[] points, List<Group> sweeps, Dictionary<int, PromptSizeFit> fits, DecodeModel decode, bool robust, int knee)
    {
        var rows = sweeps.Sum(g => g.End - g.Start);
        var columns = decode == DecodeModel.ContextLinear ? 2 : 1;
        var x = Matrix<double>.Build.Dense(rows, columns);
        var y = Vector<double>.Build.Dense(rows);
        var r = 0;
        foreach (var g in sweeps)
        {
            var intercept = fits[g.Start].InterceptSeconds;
            for (var i = g.Start; i < g.End; i++, r++)
            {
                x[r, 0] = points[i].OutputTokens - 1;
                if (columns == 2)
                {
                    x[r, 1] = ContextSum(points[i].PromptTokens, points[i].OutputTokens, knee);
                }

                y[r] = points[i].Seconds - intercept;
            }
        }

        if (columns == 2 && x.Column(1).AbsoluteMaximum() == 0)
        {
            // A hinge whose knee lies past every swept context: nothing measures g1, so the steps are all flat.
            x = x.SubMatrix(0, rows, 0, 1);
            columns = 1;
        }

        var beta = x.QR().Solve(y);
        if (robust && rows > columns + 1)
        {
            var weights = new double[rows];
            for (var iteration = 0; iteration < HuberIterations; iteration++)
            {
                HuberWeights((y - (x * beta)).ToArray(), weights);
                var w = Matrix<double>.Build.DiagonalOfDiagonalArray(weights.Select(Math.Sqrt).ToArray());
                beta = (w * x).QR().Solve(w * y);
            }
        }

        return columns == 2 ? (beta[0], beta[1]) : (beta[0], 0.0);
    }

    private const int HuberIterations = 10;

    // Huber's tuning constant: 95% efficiency under Gaussian noise, bounded influence beyond it.
    private const double HuberK = 1.345;

    /// <summary>Huber weights of residuals, scaled by their median absolute deviation (a robust standard deviation).</summary>
    private static void HuberWeights(double[] residuals, double[] weights)
    {
        var scale = 1.4826 * Percentiles.Median(residuals.Select(Math.Abs));
        for (var i = 0; i < residuals.Length; i++)
        {
            var r = Math.Abs(residuals[i]);
            weights[i] = scale <= 0 || r <= HuberK * scale ? 1.0 : HuberK * scale / r;
        }
    }

    private static (double Intercept, double Slope) WeightedLine(double[] x, double[] y, double[]? weights)
    {
        double sw = 0, meanX = 0, meanY = 0;
        for (var i = 0; i < x.Length; i++)
        {
            var w = weights?[i] ?? 1.0;
            sw += w;
            meanX += w * x[i];
            meanY += w * y[i];
        }

        meanX /= sw;
        meanY /= sw;
        double sxy = 0, sxx = 0;
        for (var i = 0; i < x.Length; i++)
        {
            var w = weights?[i] ?? 1.0;
            sxy += w * (x[i] - meanX) * (y[i] - meanY);
            sxx += w * (x[i] - meanX) * (x[i] - meanX);
        }

        // Groups reaching here have at least two distinct output lengths and positive weights, so sxx > 0.
        var slope = sxy / sxx;
        return (meanY - (slope * meanX), slope);
    }

    /// <summary>Huber M-estimate of the centre of <paramref name="values"/> (the mean when none stands out).</summary>
    private static double HuberMean(double[] values)
    {
        var centre = values.Average();
        if (values.Length < 3)
        {
            return centre;
        }

        var weights = new double[values.Length];
        for (var iteration = 0; iteration < HuberIterations; iteration++)
        {
            HuberWeights(values.Select(v => v - centre).ToArray(), weights);
            centre = values.Zip(weights, (v, w) => v * w).Sum() / weights.Sum();
        }

        return centre;
    }

    private static PromptSizeFit FitFromDecode(Point[] points, Group group, double g0, double g1, bool robust, int knee)
    {
        // One output length: PE(p) is what the runtime leaves after the fitted decode time (mean over points). Robust: the
        // short queries (where PE dominates and the decode model's error is small), pooled by a Huber mean.
        var n = group.End - group.Start;
        var shortest = points[group.Start].OutputTokens;
        var left = new List<double>(n);
        for (var i = group.Start; i < group.End; i++)
        {
            if (!robust || points[i].OutputTokens <= 4 * shortest)
            {
                left.Add(points[i].Seconds - (g0 * (points[i].OutputTokens - 1)) - (g1 * ContextSum(points[i].PromptTokens, points[i].OutputTokens, knee)));
            }
        }

        double sum = 0;
        foreach (var v in left)
        {
            sum += v; // in order, as the paper's fit always summed
        }

        var intercept = robust ? HuberMean([.. left]) : sum / left.Count;
        var residuals = new SampleResidual[n];
        for (var i = 0; i < n; i++)
        {
            var pt = points[group.Start + i];
            residuals[i] = new SampleResidual(pt.PromptTokens, pt.OutputTokens, pt.Seconds, intercept + (g0 * (pt.OutputTokens - 1)) + (g1 * ContextSum(pt.PromptTokens, pt.OutputTokens, knee)));
        }

        // The slope reported is the model's per-token time at this context; R² is 1 for a line through one point.
        return new PromptSizeFit(points[group.Start].PromptTokens, intercept, g0 + (g1 * Math.Max(0, points[group.Start].PromptTokens - knee)), 1.0, n, group.DistinctOutputs, residuals);
    }
}
