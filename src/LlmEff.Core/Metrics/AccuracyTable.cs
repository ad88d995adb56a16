using System.Globalization;
using LlmEff.Core.Catalog;
using LlmEff.Core.Serialization;

namespace LlmEff.Core.Metrics;

/// <summary>
/// Reads model accuracies with efficiency metrics from CSV. Two layouts:
/// <list type="bullet">
/// <item>Generic: a header with <c>model</c> and <c>accuracy</c>, optionally <c>scenario</c>, and any number of numeric
/// metric columns (e.g. <c>idealized_runtime</c>, <c>cost_usd</c>, <c>parameters_b</c>); an empty cell means "not measured".</item>
/// <item>HELM runs (<c>inference_runtimes_and_accuracies_all_scenarios.csv</c>): the first column <c>scenario</c> holds the
/// run's arguments including <c>model=...</c>; metrics <c>raw</c> (<c>inference_runtime</c>) and <c>idealized</c>
/// (<c>inference_idealized_runtime</c>), accuracy <c>exact_match</c>; rows without a model are summaries and are skipped.
/// With a HELM denoised table, a <c>denoised</c> metric is added from the run's mean prompt and output tokens.</item>
/// </list>
/// A model may appear once per scenario; a second row for the same pair is an error naming both lines. Accuracies are
/// fractions in [0, 1] or percentages in [0, 100], one scale per column, told by its median non-zero score (above 1: percentages): a value
/// above 100, or above 1 in a column of fractions, is an error naming its line. A file must have at least one row with an accuracy.
/// </summary>
public static class AccuracyTable
{
    /// <summary>Reads an accuracy file of either layout.</summary>
    /// <param name="path">The CSV file.</param>
    /// <param name="accuracyColumn">The accuracy column; default <c>accuracy</c> (HELM runs: <c>exact_match</c>).</param>
    /// <param name="denoisedTablePath">
    /// HELM's <c>inference_denoised_runtimes.json</c>, to add a <c>denoised</c> metric to HELM run files; null for none. Its
    /// runtimes are estimated with HELM's own rule (<see cref="PromptEncodingMode.HelmNextKeyScaled"/>), as the file's raw
    /// and idealized columns were and as <c>helm-denoised:</c> names resolve, so the metrics compare like with like.
    /// </param>
    /// <exception cref="FileNotFoundException">No file at <paramref name="path"/> (or at <paramref name="denoisedTablePath"/>).</exception>
    /// <exception cref="InvalidDataException">A malformed header or row, or a duplicate (scenario, model) row; the message gives file, line and column.</exception>
    /// <exception cref="ArgumentException"><paramref name="denoisedTablePath"/> was given for a generic file.</exception>
    public static IReadOnlyList<AccuracyRow> ReadFile(string path, string? accuracyColumn = null, string? denoisedTablePath = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"accuracy file '{path}' does not exist; pass a CSV with model,accuracy[,scenario] and metric columns, or HELM's inference_runtimes_and_accuracies_all_scenarios.csv.", path);
        }

        using var reader = new StreamReader(path);
        var denoised = denoisedTablePath is null ? null : HelmEfficiencyTables.ReadFile(denoisedTablePath, PromptEncodingMode.HelmNextKeyScaled, RuntimeMetric.Denoised);
        return Read(reader, Path.GetFileName(path), accuracyColumn, denoised);
    }

    /// <summary>Reads accuracy CSV text of either layout from <paramref name="reader"/>.</summary>
    /// <param name="reader">The CSV text, header first.</param>
    /// <param name="sourceName">What the text is (a file name), named in error messages.</param>
    /// <param name="accuracyColumn">The accuracy column; default <c>accuracy</c> (HELM runs: <c>exact_match</c>).</param>
    /// <param name="denoisedTable">HELM's denoised table (<see cref="HelmEfficiencyTables.Read(string, PromptEncodingMode, RuntimeMetric)"/>), to add a <c>denoised</c> metric to HELM run files; null for none.</param>
    /// <exception cref="InvalidDataException">A malformed header or row, or a duplicate (scenario, model) row; the message gives source, line and column.</exception>
    /// <exception cref="ArgumentException"><paramref name="denoisedTable"/> was given for a generic file.</exception>
    public static IReadOnlyList<AccuracyRow> Read(TextReader reader, string sourceName, string? accuracyColumn = null, IReadOnlyDictionary<string, RuntimeModel>? denoisedTable = null)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentException.ThrowIfNullOrWhiteSpace(sourceName);
        var name = sourceName;
        var csv = CsvTable.Read(reader, name, "model,accuracy,<metric columns>");
        var header = csv.Header.ToArray();
        return IsHelm(header)
            ? ReadHelm(csv, name, header, accuracyColumn ?? "exact_match", denoisedTable)
            : ReadGeneric(csv, name, header, accuracyColumn ?? "accuracy", denoisedTable is not null);
    }

    private static bool IsHelm(string[] header)
        => header.Length > 2 && header[0] == "scenario" && header.Contains("inference_runtime") && header.Contains("inference_idealized_runtime");

    private static List<AccuracyRow> ReadHelm(CsvTable csv, string file, string[] header, string accuracyColumn, IReadOnlyDictionary<string, RuntimeModel>? denoised)
    {
        var seen = new Dictionary<(string, string), int>();
        var accuracy = Column(header, accuracyColumn, file);
        var raw = Column(header, "inference_runtime", file);
        var idealized = Column(header, "inference_idealized_runtime", file);
        var promptTokens = Array.IndexOf(header, "num_prompt_tokens") is var pi and >= 0 ? pi : Array.IndexOf(header, "num_tokens_in_prompt");
        var outputTokens = Array.IndexOf(header, "num_output_tokens");
        var rows = new List<AccuracyRow>();
        var accuracies = new List<(double Value, int Line)>();
        foreach (var fields in csv.Rows)
        {
            var arguments = fields[0];
            var modelStart = arguments.IndexOf("model=", StringComparison.Ordinal);
            if (modelStart < 0)
            {
                continue; // perturbation summaries without a model
            }

            var modelEnd = arguments.IndexOf(',', modelStart);
            var model = modelEnd < 0 ? arguments[(modelStart + 6)..] : arguments[(modelStart + 6)..modelEnd];
            var scenario = (modelEnd < 0 ? arguments[..modelStart] : arguments[..modelStart] + arguments[(modelEnd + 1)..]).TrimEnd(':', ',');
            var acc = Number(fields, accuracy, header, file);
            if (acc is null)
            {
                continue; // the scenario has no accuracy (e.g. RAFT terms-of-service without exact_match)
            }

            accuracies.Add((acc.Value, fields.LineOf(accuracy)));

            var metrics = new Dictionary<string, double>(StringComparer.Ordinal);
            Add(metrics, "raw", Number(fields, raw, header, file));
            Add(metrics, "idealized", Number(fields, idealized, header, file));
            if (denoised is not null && promptTokens >= 0 && outputTokens >= 0
                && denoised.TryGetValue(HelmModelKey(model), out var table)
                && Number(fields, promptTokens, header, file) is { } p && Number(fields, outputTokens, header, file) is { } o)
            {
                // Mean tokens of the scenario: t is linear in o and piecewise linear in p, so this is the mean runtime
                // up to the curvature of PE between knots.
                metrics["denoised"] = table.Predict(Math.Max(1, (int)Math.Round(p)), Math.Max(1, (int)Math.Round(o)));
            }

            CheckUnique(seen, scenario, model, file, fields.LineNumber);
            rows.Add(new AccuracyRow(scenario, model, acc.Value, metrics));
        }

        CheckScale(accuracies, header[accuracy], file);
        return CheckNotEmpty(rows, file);
    }

    private static List<AccuracyRow> ReadGeneric(CsvTable csv, string file, string[] header, string accuracyColumn, bool withDenoisedTable)
    {
        if (withDenoisedTable)
        {
            throw new ArgumentException($"--denoised-table (a denoised HELM table) applies to HELM run files only; '{file}' is a generic accuracy CSV: add a denoised runtime column to it instead.");
        }

        var seen = new Dictionary<(string, string), int>();
        var model = Column(header, "model", file);
        var accuracy = Column(header, accuracyColumn, file);
        var scenario = Array.IndexOf(header, "scenario");
        var metricColumns = Enumerable.Range(0, header.Length).Where(i => i != model && i != accuracy && i != scenario && header[i].Length > 0).ToArray();
        var rows = new List<AccuracyRow>();
        var accuracies = new List<(double Value, int Line)>();
        foreach (var fields in csv.Rows)
        {
            var name = fields[model].Trim();
            if (name.Length == 0)
            {
                throw new InvalidDataException($"{file}:{fields.LineOf(model)}:{fields.CharacterOf(model)}: empty model name.");
            }

            var acc = Number(fields, accuracy, header, file)
                ?? throw new InvalidDataException($"{file}:{fields.LineOf(accuracy)}:{fields.CharacterOf(accuracy)}: empty accuracy; every row needs one.");
            accuracies.Add((acc, fields.LineOf(accuracy)));
            var metrics = new Dictionary<string, double>(StringComparer.Ordinal);
            foreach (var c in metricColumns)
            {
                Add(metrics, header[c], Number(fields, c, header, file));
            }

            var scenarioName = scenario >= 0 ? fields[scenario].Trim() : "all";
            CheckUnique(seen, scenarioName, name, file, fields.LineNumber);
            rows.Add(new AccuracyRow(scenarioName, name, acc, metrics));
        }

        CheckScale(accuracies, header[accuracy], file);
        return CheckNotEmpty(rows, file);
    }

    // A header without rows would otherwise reach the frontier as "no metric 'x'; it has ." for a column that exists.
    private static List<AccuracyRow> CheckNotEmpty(List<AccuracyRow> rows, string file)
        => rows.Count > 0
            ? rows
            : throw new InvalidDataException($"{file}: no data rows with an accuracy, only a header; add one row per model (and scenario) with its accuracy and metrics.");

    // Accuracies are fractions in [0, 1] or percentages in [0, 100]. The median non-zero score tells which: above 1, percentages
    // (where 0.8 may be a real 0.8 %); else fractions, where a value above 1 (1.5 beside 0.7 and 0.9) would top the frontier.
    private static void CheckScale(List<(double Value, int Line)> accuracies, string column, string file)
    {
        var inv = CultureInfo.InvariantCulture;
        if (accuracies.FirstOrDefault(a => a.Value > 100) is { Line: > 0 } over)
        {
            throw new InvalidDataException(string.Create(inv,
                $"{file}:{over.Line}: accuracy {over.Value:G6} in column '{column}' is above 100; accuracies are fractions in [0, 1] or percentages in [0, 100]: fix that row or rescale the column."));
        }

        var scored = accuracies.Where(a => a.Value > 0).Select(a => a.Value).ToArray();
        if (scored.Length > 0 && Percentiles.Of(scored, 50) <= 1
            && accuracies.FirstOrDefault(a => a.Value > 1) is { Line: > 0 } percent)
        {
            throw new InvalidDataException(string.Create(inv,
                $"{file}:{percent.Line}: accuracy {percent.Value:G6} in column '{column}' is above 1 while most of the column are fractions; give every accuracy as a fraction in [0, 1] or every one as a percentage in [0, 100]."));
        }
    }

    // A second row for one (scenario, model) would make the frontier and rankings ambiguous, so it is refused here.
    private static void CheckUnique(Dictionary<(string, string), int> seen, string scenario, string model, string file, int line)
    {
        if (!seen.TryAdd((scenario, model), line))
        {
            throw new InvalidDataException($"{file}:{line}: duplicate row: model '{model}' in scenario '{scenario}' already appears on line {seen[(scenario, model)]}; keep one row per model and scenario.");
        }
    }

    /// <summary>HELM run files write <c>openai_davinci</c> where its efficiency tables write <c>openai/davinci</c>.</summary>
    private static string HelmModelKey(string model)
    {
        var underscore = model.IndexOf('_', StringComparison.Ordinal);
        return underscore < 0 ? model : model[..underscore] + "/" + model[(underscore + 1)..];
    }

    private static int Column(string[] header, string name, string file)
    {
        var index = Array.IndexOf(header, name);
        return index >= 0
            ? index
            : throw new InvalidDataException($"{file}:1: no '{name}' column; the header has {string.Join(", ", header.Where(h => h.Length > 0))}.");
    }

    private static void Add(Dictionary<string, double> metrics, string name, double? value)
    {
        if (value is { } v)
        {
            metrics[name] = v;
        }
    }

    private static double? Number(CsvRecord fields, int index, string[] header, string file)
    {
        var text = fields[index].Trim();
        if (text.Length == 0)
        {
            return null;
        }

        if (!(double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value)))
        {
            throw new InvalidDataException($"{file}:{fields.LineOf(index)}:{fields.CharacterOf(index)}: '{text}' in column '{header[index]}' is not a finite number.");
        }

        // Accuracies, runtimes and costs are never negative; a negative runtime would dominate the frontier.
        return value >= 0
            ? value
            : throw new InvalidDataException($"{file}:{fields.LineOf(index)}:{fields.CharacterOf(index)}: '{text}' in column '{header[index]}' is negative; accuracies and efficiency metrics are 0 or more.");
    }
}
