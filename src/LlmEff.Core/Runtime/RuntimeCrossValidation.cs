namespace LlmEff.Core;

/// <summary>Leave-one-prompt-size-out and leave-one-output-length-out cross-validation of the runtime fit.</summary>
internal static class RuntimeCrossValidation
{
    public static CrossValidationReport Run(RuntimeModelFitter.Point[] points, RuntimeFitOptions options, CancellationToken cancellationToken)
    {
        var byPrompt = LeaveOnePromptSizeOut(points, options, cancellationToken);
        var byOutput = LeaveOneOutputLengthOut(points, options, cancellationToken);
        var configurationSeconds = new List<double>();
        var byConfiguration = LeaveOneConfigurationOut(points, options, cancellationToken, configurationSeconds);
        var pooled = byPrompt.Concat(byOutput).Concat(byConfiguration).ToArray();
        return new CrossValidationReport(Summary(byPrompt), Summary(byOutput), Summary(byConfiguration))
        {
            Combined = Summary(pooled),
            PromptFoldErrors = byPrompt,
            ConfigurationFoldErrors = byConfiguration,
            ConfigurationFoldSeconds = configurationSeconds,
            MeasurementResolutionSeconds = MeasurementResolution.DetectStepSeconds(points.Select(p => p.Seconds)),
            ConfigurationFoldInverseSquareSeconds = MeanInverseSquare(ConfigurationFoldTestPoints(points)),
        };
    }

    /// <summary>The error used to choose a decode model: RMS of leave-one-output-length-out errors, else of leave-one-prompt-size-out.</summary>
    public static double SelectionError(RuntimeModelFitter.Point[] points, RuntimeFitOptions options, CancellationToken cancellationToken = default)
    {
        var errors = LeaveOneOutputLengthOut(points, options, cancellationToken);
        if (errors.Count == 0)
        {
            errors = LeaveOnePromptSizeOut(points, options, cancellationToken);
        }

        return errors.Count == 0 ? double.PositiveInfinity : Math.Sqrt(errors.Sum(e => e * e) / errors.Count);
    }

    /// <summary>RMS of leave-one-configuration-out errors (each swept configuration predicted from the rest); +∞ when there are none.</summary>
    public static double ConfigurationError(RuntimeModelFitter.Point[] points, RuntimeFitOptions options, CancellationToken cancellationToken = default)
    {
        var errors = LeaveOneConfigurationOut(points, options, cancellationToken);
        return errors.Count == 0 ? double.PositiveInfinity : Math.Sqrt(errors.Sum(e => e * e) / errors.Count);
    }

    internal static List<double> LeaveOnePromptSizeOut(RuntimeModelFitter.Point[] points, RuntimeFitOptions options, CancellationToken cancellationToken)
    {
        var prompts = points.Select(p => p.PromptTokens).Distinct().Order().ToArray();
        var errors = new List<double>();
        for (var i = 1; i < prompts.Length - 1; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var left = prompts[i];
            TryFold(points, p => p.PromptTokens == left, options, errors);
        }

        return errors;
    }

    /// <summary>Leave-one-configuration-out errors; <paramref name="seconds"/>, when given, receives each predicted point's measured runtime in the same order.</summary>
    internal static List<double> LeaveOneConfigurationOut(RuntimeModelFitter.Point[] points, RuntimeFitOptions options, CancellationToken cancellationToken, List<double>? seconds = null)
    {
        // The configuration at each prompt size's smallest output length stays in: it anchors PE(p), and an unprofiled
        // configuration of a profiled prompt size always has that anchor. Leaving it out would instead test rebuilding
        // PE(p) from long generations, which no such prediction needs.
        var errors = new List<double>();
        var anchors = points.GroupBy(p => p.PromptTokens).ToDictionary(g => g.Key, g => g.Min(p => p.OutputTokens));
        foreach (var point in points.Select(p => (p.PromptTokens, p.OutputTokens)).Distinct())
        {
            if (point.OutputTokens == anchors[point.PromptTokens])
            {
                continue;
            }

            cancellationToken.ThrowIfCancellationRequested();
            TryFold(points, p => p.PromptTokens == point.PromptTokens && p.OutputTokens == point.OutputTokens, options, errors, seconds);
        }

        return errors;
    }

    internal static List<double> LeaveOneOutputLengthOut(RuntimeModelFitter.Point[] points, RuntimeFitOptions options, CancellationToken cancellationToken)
    {
        var outputs = points.Select(p => p.OutputTokens).Distinct().Order().ToArray();
        var errors = new List<double>();
        if (outputs.Length < 3)
        {
            return errors;
        }

        foreach (var left in outputs)
        {
            cancellationToken.ThrowIfCancellationRequested();
            TryFold(points, p => p.OutputTokens == left, options, errors);
        }

        return errors;
    }

    // The points the configuration folds predict (those of a fold that cannot be refitted included: rare, and only a weight here).
    private static IEnumerable<RuntimeModelFitter.Point> ConfigurationFoldTestPoints(RuntimeModelFitter.Point[] points)
    {
        var anchors = points.GroupBy(p => p.PromptTokens).ToDictionary(g => g.Key, g => g.Min(p => p.OutputTokens));
        return points.Where(p => p.OutputTokens != anchors[p.PromptTokens]);
    }

    private static double MeanInverseSquare(IEnumerable<RuntimeModelFitter.Point> points)
    {
        var list = points.ToList();
        return list.Count == 0 ? 0 : list.Average(p => 1 / (p.Seconds * p.Seconds));
    }

    private static ErrorSummary? Summary(IReadOnlyCollection<double> errors) => errors.Count > 0 ? ErrorSummary.FromRelativeErrors(errors) : null;

    private static void TryFold(RuntimeModelFitter.Point[] points, Func<RuntimeModelFitter.Point, bool> leaveOut, RuntimeFitOptions options, List<double> errors, List<double>? seconds = null)
    {
        var train = points.Where(p => !leaveOut(p)).ToArray();
        var test = points.Where(leaveOut).ToArray();
        RuntimeModel model;
        try
        {
            // A fold that leaves a prompt size without a sweep (or no sweep at all) cannot be refitted: skip it.
            model = RuntimeModelFitter.FitPoints(train, options with { Decode = options.Decode == DecodeModel.Auto ? DecodeModel.Constant : options.Decode, AllowSingleOutputLength = true });
        }
        catch (ArgumentException)
        {
            return;
        }

        foreach (var t in test)
        {
            errors.Add((model.Predict(t.PromptTokens, t.OutputTokens) - t.Seconds) / t.Seconds);
            seconds?.Add(t.Seconds);
        }
    }
}
