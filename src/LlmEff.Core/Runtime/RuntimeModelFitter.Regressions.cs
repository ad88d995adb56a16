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

    private static PromptSizeFit FitLine(Point[] points, Group group, double curvature)
    {
        // A straight line has a closed-form least-squares solution; with x and y centred it is as accurate as a QR
        // solve, and at this size (a few rows) MathNet's QR cost 8 us per prompt size, 80% of a paper-grid fit.
        var n = group.End - group.Start;
        var x = new double[n];
        var y = new double[n];
        double meanX = 0, meanY = 0;
        for (var i = 0; i < n; i++)
        {
            var pt = points[group.Start + i];
            double steps = pt.OutputTokens - 1;
            x[i] = steps;
            y[i] = pt.Seconds - (curvature * steps * (pt.OutputTokens - 2) * 0.5);
            meanX += x[i];
            meanY += y[i];
        }

        meanX /= n;
        meanY /= n;
        double sxy = 0, sxx = 0;
        for (var i = 0; i < n; i++)
        {
            sxy += (x[i] - meanX) * (y[i] - meanY);
            sxx += (x[i] - meanX) * (x[i] - meanX);
        }

        // Groups reaching here have at least two distinct output lengths, so sxx > 0.
        var slope = sxy / sxx;
        var intercept = meanY - (slope * meanX);
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

    private static (double G0, double G1) FitDecode(Point[] points, List<Group> sweeps, Dictionary<int, PromptSizeFit> fits, DecodeModel decode)
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
                    x[r, 1] = ContextSum(points[i].PromptTokens, points[i].OutputTokens);
                }

                y[r] = points[i].Seconds - intercept;
            }
        }

        var beta = x.QR().Solve(y);
        return columns == 2 ? (beta[0], beta[1]) : (beta[0], 0.0);
    }

    private static PromptSizeFit FitFromDecode(Point[] points, Group group, double g0, double g1)
    {
        // One output length: PE(p) is what the runtime leaves after the fitted decode time (mean over points).
        var n = group.End - group.Start;
        double sum = 0;
        for (var i = group.Start; i < group.End; i++)
        {
            sum += points[i].Seconds - (g0 * (points[i].OutputTokens - 1)) - (g1 * ContextSum(points[i].PromptTokens, points[i].OutputTokens));
        }

        var intercept = sum / n;
        var residuals = new SampleResidual[n];
        for (var i = 0; i < n; i++)
        {
            var pt = points[group.Start + i];
            residuals[i] = new SampleResidual(pt.PromptTokens, pt.OutputTokens, pt.Seconds, intercept + (g0 * (pt.OutputTokens - 1)) + (g1 * ContextSum(pt.PromptTokens, pt.OutputTokens)));
        }

        // The slope reported is the model's per-token time at this context; R² is 1 for a line through one point.
        return new PromptSizeFit(points[group.Start].PromptTokens, intercept, g0 + (g1 * points[group.Start].PromptTokens), 1.0, n, group.DistinctOutputs, residuals);
    }
}
