using LlmEff.Core.Planning;

namespace LlmEff.Core.Evaluation;

/// <summary>
/// Compares estimation methods on a fully measured grid (issue: estimation accuracy beyond the paper): the paper's fixed
/// design and fit, the same design with LlmEff's context-aware decode and monotone PE, HELM's estimator on the paper's
/// knots, and adaptive profiling within the same query budget.
/// </summary>
public static class AccuracyStudy
{
    /// <summary>The paper's configuration prompt sizes (§3.4).</summary>
    public static IReadOnlyList<int> PaperPromptTokens { get; } = [1, 256, 512, 1024, 1536];

    /// <summary>Query budget of the paper's design: 5 prompt sizes × 10 output lengths.</summary>
    public const int PaperBudget = 50;

    /// <summary>Method name of the paper's procedure.</summary>
    public const string Paper = "paper (§3.4)";

    /// <summary>Method name of the paper's design fitted with context-aware decode (auto) and monotone PE.</summary>
    public const string PaperDesignLlmEffFit = "paper design, LlmEff fit";

    /// <summary>Method name of HELM's estimator on the paper's fitted knots.</summary>
    public const string Helm = "HELM estimator";

    /// <summary>Method name of adaptive profiling within the paper's budget.</summary>
    public const string Adaptive = "adaptive (LlmEff)";

    /// <summary>The fit options LlmEff recommends for the paper's fixed design.</summary>
    public static RuntimeFitOptions LlmEffFixedDesignOptions { get; } = new() { Decode = DecodeModel.Auto, PromptEncodingShape = PromptEncodingShape.Monotone };

    /// <summary>Fewest prompt sizes a grid needs for the study: the paper's five, and one more held out.</summary>
    public const int MinimumPromptSizes = 6;

    /// <summary>
    /// Runs every method on <paramref name="grid"/>. Adaptive profiling gets the paper design's budget on this grid
    /// (at most <see cref="PaperBudget"/>), so the comparison is at equal cost.
    /// </summary>
    /// <exception cref="ArgumentException">The grid has fewer than <see cref="MinimumPromptSizes"/> prompt sizes or fewer than two output lengths.</exception>
    public static IReadOnlyList<MethodAccuracy> CompareMethods(ProfilingGrid grid, CancellationToken cancellationToken = default)
    {
        EnsureLargeEnough(grid);
        var paperDesign = PaperDesign(grid, grid.OutputTokens.Count);
        var paper = Evaluate(grid, Paper, paperDesign, new RuntimeFitOptions(), cancellationToken);
        // HELM's estimator on the paper fit's knots, as they are: the study keeps a non-physical fit as data (KeepNonPhysicalFit),
        // which RuntimeModel.Create would refuse.
        var helmModel = new RuntimeModel(paper.Model.PromptEncoding, paper.Model.PerOutputTokenSeconds, 0, double.NaN, null, null, null, null, promptEncodingMode: PromptEncodingMode.HelmNextKeyScaled);
        var helm = paper with { Method = Helm, HeldOut = grid.HeldOutError(helmModel, paperDesign), CrossValidated = null, Model = helmModel };
        return
        [
            paper,
            Evaluate(grid, PaperDesignLlmEffFit, paperDesign, LlmEffFixedDesignOptions, cancellationToken),
            helm,
            Evaluate(grid, Adaptive, AdaptiveDesign(grid, Math.Max(6, Math.Min(PaperBudget, paperDesign.Count))), AdaptiveProfilingPlanner.FitOptions, cancellationToken),
        ];
    }

    /// <summary>Held-out error against the number of queries for the paper's grid (5 prompt sizes × k output lengths) and adaptive profiling.</summary>
    /// <remarks>Budgets a strategy cannot spend on this grid (fewer than its seed, or as many as the grid holds, leaving nothing held out) are left out.</remarks>
    public static IReadOnlyList<BudgetCurvePoint> BudgetCurve(ProfilingGrid grid, IEnumerable<int> budgets, CancellationToken cancellationToken = default)
    {
        EnsureLargeEnough(grid);
        ArgumentNullException.ThrowIfNull(budgets);
        var points = new List<BudgetCurvePoint>();
        foreach (var budget in budgets.Distinct().Order())
        {
            cancellationToken.ThrowIfCancellationRequested();
            var outputs = budget / PaperPromptTokens.Count;
            if (outputs >= 2 && outputs <= grid.OutputTokens.Count && PaperPromptSizes(grid).Count * outputs < grid.Count)
            {
                var design = PaperDesign(grid, outputs);
                points.Add(new BudgetCurvePoint("paper grid", design.Count, grid.HeldOutError(RuntimeModel.Fit(design, StudyOptions(new RuntimeFitOptions())), design)) { Budget = budget });
            }

            if (budget < 6 || budget >= grid.Count)
            {
                continue;
            }

            var adaptive = AdaptiveDesign(grid, budget);
            points.Add(new BudgetCurvePoint("adaptive", adaptive.Count, grid.HeldOutError(RuntimeModel.Fit(adaptive, StudyOptions(AdaptiveProfilingPlanner.FitOptions)), adaptive)) { Budget = budget });
        }

        return points;
    }

    /// <summary>
    /// The paper's design on this grid: its prompt sizes × <paramref name="outputCount"/> output lengths spread evenly
    /// (smallest and largest included). On a grid without the paper's prompt sizes each is replaced by the grid's nearest
    /// one (the smaller on a tie); grids that hold them all get exactly the paper's.
    /// </summary>
    public static List<ProfilingSample> PaperDesign(ProfilingGrid grid, int outputCount)
    {
        ArgumentNullException.ThrowIfNull(grid);
        ArgumentOutOfRangeException.ThrowIfLessThan(outputCount, 2);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(outputCount, grid.OutputTokens.Count);
        var outputs = Enumerable.Range(0, outputCount)
            .Select(i => grid.OutputTokens[(int)Math.Round(i * (grid.OutputTokens.Count - 1) / (double)(outputCount - 1))])
            .Distinct();
        return PaperPromptSizes(grid)
            .SelectMany(p => outputs.Select(o => grid.Measure(p, o)))
            .ToList();
    }

    private static List<int> PaperPromptSizes(ProfilingGrid grid)
        => PaperPromptTokens.Select(p => grid.PromptTokens.MinBy(g => (Math.Abs(g - p), g))).Distinct().ToList();

    private static void EnsureLargeEnough(ProfilingGrid grid)
    {
        ArgumentNullException.ThrowIfNull(grid);
        if (grid.PromptTokens.Count < MinimumPromptSizes || grid.OutputTokens.Count < 2)
        {
            throw new ArgumentException(
                $"The grid '{grid.Name}' has {grid.PromptTokens.Count} prompt sizes × {grid.OutputTokens.Count} output lengths; the study needs at least {MinimumPromptSizes} prompt sizes (the paper's design profiles 5 and one must be held out) and 2 output lengths: measure more prompt sizes.",
                nameof(grid));
        }
    }

    /// <summary>
    /// The adaptive planner's design on this grid within <paramref name="budget"/> queries, without repeated anchors: a grid
    /// answers a repeated query with the value it holds, not a new measurement, so a repeat would cost a sweep and show no noise.
    /// </summary>
    public static List<ProfilingSample> AdaptiveDesign(ProfilingGrid grid, int budget)
    {
        ArgumentNullException.ThrowIfNull(grid);
        var planner = new AdaptiveProfilingPlanner(grid.PromptTokens, grid.OutputTokens) { RepeatedAnchors = 0 };
        return planner.RunAsync(budget, (q, _) => ValueTask.FromResult(grid.Measure(q.PromptTokens, q.OutputTokens)))
            .GetAwaiter().GetResult().ToList();
    }

    // The study measures how far each procedure's fit lands from the measured grid, small and noisy designs included, so a
    // non-physical fit is data here, not an error: it is kept and its warnings travel with MethodAccuracy.Model.
    private static RuntimeFitOptions StudyOptions(RuntimeFitOptions options) => options with { KeepNonPhysicalFit = true };

    private static MethodAccuracy Evaluate(ProfilingGrid grid, string method, List<ProfilingSample> design, RuntimeFitOptions options, CancellationToken cancellationToken)
    {
        options = StudyOptions(options);
        var model = RuntimeModel.Fit(design, options);
        var cv = RuntimeModel.CrossValidate(design, options, cancellationToken).EstimateHeldOutError(model, grid.Unmeasured(design));
        return new MethodAccuracy(method, design.Count, design.Sum(s => s.RuntimeSeconds), grid.HeldOutError(model, design), cv, model);
    }
}
