using System.Globalization;
using LlmEff.Core.Catalog;

namespace LlmEff.Core.Metrics;

/// <summary>
/// One scenario's capability–efficiency points, which are on the Pareto frontier, and the f1/f2 rankings (paper §5.4).
/// A ranking is null where it does not apply (not requested, or a value outside the objective's domain); then
/// <see cref="RankingNote"/> says why.
/// </summary>
/// <param name="Scenario">The scenario's name.</param>
/// <param name="Points">One point per model: accuracy and the metric.</param>
/// <param name="OnFrontier">For each of <paramref name="Points"/>, whether it is on the Pareto frontier.</param>
/// <param name="F1">Models ranked by <c>accuracy / metric</c>, best first; null where it does not apply.</param>
/// <param name="F2">Models ranked by <c>accuracy / ln(metric / unit)</c>, best first; null where it does not apply.</param>
public sealed record ScenarioFrontier(
    string Scenario,
    IReadOnlyList<CapabilityEfficiencyPoint> Points,
    IReadOnlyList<bool> OnFrontier,
    IReadOnlyList<RankedModel>? F1,
    IReadOnlyList<RankedModel>? F2)
{
    /// <summary>Why <see cref="F1"/> or <see cref="F2"/> is null, when one is; null when both were computed or ranking was not requested.</summary>
    public string? RankingNote { get; init; }

    /// <summary>Per scenario with at least <paramref name="minimumModels"/> models that have <paramref name="metric"/>, in scenario order, with both rankings (f2's log unit <paramref name="logUnit"/>).</summary>
    /// <param name="rows">Accuracy rows, e.g. from <see cref="AccuracyTable"/>.</param>
    /// <param name="metric">The metric, a key of <see cref="AccuracyRow.Metrics"/>.</param>
    /// <param name="minimumModels">Scenarios with fewer models are skipped.</param>
    /// <param name="logUnit">f2's log unit in the metric's units.</param>
    public static IReadOnlyList<ScenarioFrontier> Compute(IEnumerable<AccuracyRow> rows, string metric, int minimumModels, double logUnit = 0.001)
        => Compute(rows, new ScenarioFrontierOptions(metric) { MinimumModels = minimumModels, LogUnit = logUnit });

    /// <summary>Per scenario with at least <see cref="ScenarioFrontierOptions.MinimumModels"/> models that have the metric, in scenario order; no name checks (see <see cref="Analyze"/>).</summary>
    /// <param name="rows">Accuracy rows, e.g. from <see cref="AccuracyTable"/>.</param>
    /// <param name="options">Metric, filters and rankings.</param>
    public static IReadOnlyList<ScenarioFrontier> Compute(IEnumerable<AccuracyRow> rows, ScenarioFrontierOptions options)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(options);
        CheckLogUnit(options);
        var metric = options.Metric;
        return rows
            .Where(r => r.Metrics.ContainsKey(metric))
            .Where(r => options.Models is not { Count: > 0 } m || m.Contains(r.Model, StringComparer.Ordinal))
            .Where(r => options.Scenarios is not { Count: > 0 } s || s.Contains(r.Scenario, StringComparer.Ordinal))
            .GroupBy(r => r.Scenario, StringComparer.Ordinal)
            .Where(g => g.Count() >= options.MinimumModels)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => For(g.Key, g.Select(r => new CapabilityEfficiencyPoint(r.Model, r.Accuracy, r.Metrics[metric])).ToArray(), options))
            .ToArray();
    }

    /// <summary>
    /// Checks the metric, scenario and model names against <paramref name="rows"/> (naming the closest on a typo), then
    /// computes every scenario's frontier.
    /// </summary>
    /// <param name="rows">Accuracy rows, e.g. from <see cref="AccuracyTable"/>.</param>
    /// <param name="options">Metric, filters and rankings.</param>
    /// <param name="sourceName">The rows' file name, for messages.</param>
    /// <exception cref="KeyNotFoundException">An unknown metric, scenario or model; the message names the closest.</exception>
    /// <exception cref="ArgumentException">No rows, no scenario has enough models, or <see cref="ScenarioFrontierOptions.MinimumModels"/> is below 1.</exception>
    public static IReadOnlyList<ScenarioFrontier> Analyze(IReadOnlyList<AccuracyRow> rows, ScenarioFrontierOptions options, string sourceName = "the accuracy file")
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(options);
        if (options.MinimumModels < 1)
        {
            throw new ArgumentException($"MinimumModels (--min-models) is {options.MinimumModels}; it must be at least 1.", nameof(options));
        }

        CheckLogUnit(options);

        // Without rows the metric check below would say "it has ." of a column that may well exist.
        if (rows.Count == 0)
        {
            throw new ArgumentException($"{sourceName} has no data rows; add one row per model (and scenario) with its accuracy and metrics.", nameof(rows));
        }

        var metrics = rows.SelectMany(r => r.Metrics.Keys).Distinct(StringComparer.Ordinal).ToArray();
        if (!metrics.Contains(options.Metric, StringComparer.Ordinal))
        {
            var hint = options.Metric == "denoised" ? " (HELM run files get 'denoised' only with a denoised table, --denoised-table)" : string.Empty;
            var has = metrics.Length > 0 ? $"it has {string.Join(", ", metrics)}. {NameSuggestions.Describe(options.Metric, metrics)}" : "no row has a value in any metric column; fill in the metric.";
            throw new KeyNotFoundException($"no metric '{options.Metric}' in {sourceName}{hint}; {has}");
        }

        CheckNames(rows, options.Models, r => r.Model, "model");
        CheckNames(rows, options.Scenarios, r => r.Scenario, "scenario");
        var result = Compute(rows, options);
        if (result.Count == 0)
        {
            throw new ArgumentException($"no scenario has {options.MinimumModels} or more models with accuracy and '{options.Metric}'; lower --min-models (MinimumModels) or check the filters.", nameof(options));
        }

        return result;
    }

    // A NaN or infinite unit would fail every "smallest > unit" test and drop f2 with a note about the data, not the unit.
    private static void CheckLogUnit(ScenarioFrontierOptions options)
    {
        if (options.Rank && !(double.IsFinite(options.LogUnit) && options.LogUnit > 0))
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"LogUnit (--log-unit) is {options.LogUnit}; f2's log unit must be a finite, positive number in the metric's units (for runtimes a positive number of seconds, e.g. 0.001)."), nameof(options));
        }
    }

    private static ScenarioFrontier For(string scenario, CapabilityEfficiencyPoint[] points, ScenarioFrontierOptions options)
    {
        var onFrontier = ParetoFrontier.Membership(points);
        if (!options.Rank)
        {
            return new ScenarioFrontier(scenario, points, onFrontier, null, null);
        }

        // f1 needs a positive metric and f2 one above its log unit; a metric outside that (a zero cost, a value below
        // the unit) leaves that ranking out instead of failing the whole analysis.
        var inv = CultureInfo.InvariantCulture;
        var smallest = points.Min(p => p.EfficiencyMetric);
        var f1 = smallest > 0 ? ModelRanking.Rank(points, RankingObjective.AccuracyPerRuntime) : null;
        var f2 = smallest > options.LogUnit ? ModelRanking.Rank(points, RankingObjective.AccuracyPerLogRuntime(options.LogUnit)) : null;
        string? note = null;
        if (f1 is null)
        {
            note = string.Create(inv, $"no f1 or f2 ranking: the smallest {options.Metric} is {smallest:G4}, and both need positive values");
        }
        else if (f2 is null)
        {
            note = string.Create(inv, $"no f2 ranking: the smallest {options.Metric} is {smallest:G4}, at or below the log unit {options.LogUnit:G4}; pass a smaller log unit (--log-unit) in the metric's units");
        }

        return new ScenarioFrontier(scenario, points, onFrontier, f1, f2) { RankingNote = note };
    }

    private static void CheckNames(IReadOnlyList<AccuracyRow> rows, IReadOnlyList<string>? wanted, Func<AccuracyRow, string> key, string what)
    {
        if (wanted is not { Count: > 0 })
        {
            return;
        }

        var known = rows.Select(key).Distinct(StringComparer.Ordinal).ToArray();
        foreach (var w in wanted)
        {
            if (!known.Contains(w, StringComparer.Ordinal))
            {
                throw new KeyNotFoundException($"unknown {what} '{w}'. {NameSuggestions.Describe(w, known)}");
            }
        }
    }
}
