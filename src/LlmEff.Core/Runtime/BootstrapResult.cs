namespace LlmEff.Core;

/// <summary>
/// Bootstrap intervals of a runtime fit: the model refitted on resampled data many times, each refit's parameters and
/// predictions collected, and percentile intervals read off. Residual bootstrap with relative residuals
/// (<c>y* = ŷ·(1 + e)</c>, <c>e</c> drawn from the fit's relative residuals), so it works for any design, including prompt
/// sizes measured at a single output length.
/// </summary>
public sealed class BootstrapResult
{
    private readonly RuntimeModel _model;
    private readonly RuntimeModel[] _replicates;

    internal BootstrapResult(RuntimeModel model, RuntimeModel[] replicates, double level)
    {
        _model = model;
        _replicates = replicates;
        Level = level;
        PerOutputTokenSeconds = Interval(model.PerOutputTokenSeconds, replicates.Select(r => r.PerOutputTokenSeconds));
        PerOutputTokenContextSeconds = Interval(model.PerOutputTokenContextSeconds, replicates.Select(r => r.PerOutputTokenContextSeconds));
        PromptEncoding = model.PromptEncoding.Knots
            .Select(k => new KeyValuePair<int, ParameterInterval>((int)k.X, Interval(k.Y, replicates.Select(r => r.PromptEncoding.Evaluate(k.X)))))
            .ToArray();
    }

    /// <summary>Number of bootstrap refits.</summary>
    public int Resamples => _replicates.Length;

    /// <summary>Coverage of the intervals, e.g. 0.95.</summary>
    public double Level { get; }

    /// <summary>Interval for <c>g</c> (or <c>g0</c>).</summary>
    public ParameterInterval PerOutputTokenSeconds { get; }

    /// <summary>Interval for <c>g1</c> (all zeros for the constant decode model).</summary>
    public ParameterInterval PerOutputTokenContextSeconds { get; }

    /// <summary>Interval for <c>PE</c> at each knot (prompt tokens → interval).</summary>
    public IReadOnlyList<KeyValuePair<int, ParameterInterval>> PromptEncoding { get; }

    /// <summary>Interval for the predicted runtime of one query.</summary>
    public ParameterInterval PredictionInterval(int promptTokens, int outputTokens)
        => Interval(_model.Predict(promptTokens, outputTokens), _replicates.Select(r => r.Predict(promptTokens, outputTokens)));

    private ParameterInterval Interval(double estimate, IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        var tail = (1 - Level) / 2;
        return new ParameterInterval(estimate, Percentiles.OfSorted(sorted, 100 * tail), Percentiles.OfSorted(sorted, 100 * (1 - tail)));
    }
}
