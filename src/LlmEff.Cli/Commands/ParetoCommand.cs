using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using LlmEff.Core.Metrics;

namespace LlmEff.Cli.Commands;

/// <summary><c>llmeff pareto</c>: capability vs an efficiency metric per scenario, the Pareto frontier and the f1/f2 rankings (paper §5.4, Figures 9–10).</summary>
internal static class ParetoCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var accuracies = new Option<FileInfo>("--accuracies", "-a")
        {
            Description = "CSV of accuracies: columns model, accuracy, optional scenario, and numeric metric columns; or HELM's inference_runtimes_and_accuracies_all_scenarios.csv (metrics raw, idealized).",
            Required = true,
        };
        var metric = new Option<string>("--metric") { Description = "Efficiency metric column (lower is better); for HELM run files: raw, idealized or denoised (needs --denoised-table).", DefaultValueFactory = _ => "idealized" };
        var accuracyColumn = new Option<string?>("--accuracy-column") { Description = "Accuracy column; default 'accuracy' (HELM: 'exact_match')." };
        var denoisedTable = new Option<FileInfo?>("--denoised-table") { Description = "HELM denoised efficiency table (inference_denoised_runtimes.json) to add a 'denoised' metric to HELM run files." };
        var scenarios = new Option<string[]>("--scenario", "-s") { Description = "Only these scenarios (exact names as listed); default: all with at least --min-models models.", AllowMultipleArgumentsPerToken = true };
        var models = new Option<string[]>("--models") { Description = "Only these models.", AllowMultipleArgumentsPerToken = true };
        var minimum = new Option<int>("--min-models") { Description = "Skip scenarios with fewer models than this.", DefaultValueFactory = _ => 2 };
        var logUnit = new Option<double>("--log-unit") { Description = "f2 = accuracy / ln(metric / unit): the unit in the metric's units (seconds for runtimes).", DefaultValueFactory = _ => 0.001 };
        var json = new Option<bool>("--json") { Description = "Write JSON instead of tables." };
        var command = new Command("pareto", "Capability vs an efficiency metric per scenario from a CSV of accuracies: the Pareto frontier and the f1 = accuracy/metric and f2 = accuracy/ln(metric) rankings (paper §5.4).")
        {
            accuracies, metric, accuracyColumn, denoisedTable, scenarios, models, minimum, logUnit, json,
        };
        command.SetAction(parse =>
        {
            var minimumModels = parse.GetValue(minimum);
            if (minimumModels < 1)
            {
                throw new ArgumentOutOfRangeException("--min-models", minimumModels, "--min-models must be at least 1.");
            }

            var frontiers = Analyze(
                parse.GetValue(accuracies)!.FullName,
                parse.GetValue(accuracyColumn),
                parse.GetValue(denoisedTable)?.FullName,
                new ScenarioFrontierOptions(parse.GetValue(metric)!)
                {
                    Scenarios = parse.GetValue(scenarios),
                    Models = parse.GetValue(models),
                    MinimumModels = minimumModels,
                    LogUnit = parse.GetValue(logUnit),
                },
                error);
            if (parse.GetValue(json))
            {
                WriteJson(output, parse.GetValue(metric)!, frontiers);
            }
            else
            {
                WriteTables(output, parse.GetValue(metric)!, frontiers);
            }

            return 0;
        });
        return command;
    }

    /// <summary>
    /// Reads the file, checks the metric, scenario and model names (suggesting close ones), and computes each scenario's
    /// frontier; a note on <paramref name="notes"/> names each model of an analysed scenario left out for lacking the metric.
    /// </summary>
    public static IReadOnlyList<ScenarioFrontier> Analyze(string path, string? accuracyColumn, string? denoisedTable, ScenarioFrontierOptions options, TextWriter? notes = null)
    {
        CliInputs.EnsureText(path, "an accuracy CSV (model,accuracy[,scenario] and metric columns)");
        var rows = AccuracyTable.ReadFile(path, accuracyColumn, denoisedTable);
        var frontiers = ScenarioFrontier.Analyze(rows, options, Path.GetFileName(path));
        if (notes is not null)
        {
            // A model named (or in the file) but without the metric would otherwise vanish from its frontier unsaid.
            var analysed = frontiers.Select(f => f.Scenario).ToHashSet(StringComparer.Ordinal);
            foreach (var r in rows.Where(r => analysed.Contains(r.Scenario) && !r.Metrics.ContainsKey(options.Metric)
                && (options.Models is not { Count: > 0 } models || models.Contains(r.Model, StringComparer.Ordinal))))
            {
                notes.WriteLine($"llmeff: note: {r.Model} has no '{options.Metric}' value in scenario {r.Scenario}; left out of that frontier.");
            }
        }

        return frontiers;
    }

    private static void WriteTables(TextWriter output, string metric, IReadOnlyList<ScenarioFrontier> frontiers)
    {
        var inv = CultureInfo.InvariantCulture;
        foreach (var s in frontiers)
        {
            output.WriteLine($"scenario {s.Scenario}: accuracy vs {metric} ({s.Points.Count} models, {s.OnFrontier.Count(f => f)} on the frontier)");
            var f1 = Ranks(s.F1);
            var f2 = Ranks(s.F2);
            TextTable.Write(
                output,
                ["model", "accuracy", metric, "frontier", "f1 rank", "f2 rank"],
                s.Points.Select((p, i) => (p, i)).OrderBy(x => f1?[x.p.Label] ?? 0).ThenBy(x => x.p.EfficiencyMetric).ThenBy(x => x.p.Label, StringComparer.Ordinal).Select(x => new[]
                {
                    x.p.Label,
                    x.p.Capability.ToString("F3", inv),
                    x.p.EfficiencyMetric.ToString("G4", inv),
                    s.OnFrontier[x.i] ? "*" : string.Empty,
                    f1?[x.p.Label].ToString(inv) ?? "-",
                    f2?[x.p.Label].ToString(inv) ?? "-",
                }).ToList());
            if (s.RankingNote is { } note)
            {
                output.WriteLine(note + ".");
            }

            output.WriteLine();
        }

        if (frontiers.Count > 1)
        {
            output.WriteLine($"mean rank over {frontiers.Count} scenarios (Figure 10):");
            TextTable.Write(
                output,
                ["model", "scenarios", "on frontier", "mean f1 rank", "mean f2 rank"],
                ModelMeanRank.Over(frontiers).Select(m => new[]
                {
                    m.Model, m.Scenarios.ToString(inv), m.OnFrontier.ToString(inv), m.MeanF1Rank?.ToString("F2", inv) ?? "-", m.MeanF2Rank?.ToString("F2", inv) ?? "-",
                }).ToList());
        }

        output.WriteLine();
        output.WriteLine("f1 = accuracy / metric; f2 = accuracy / ln(metric / unit) (paper §5.4); rank 1 is best; '*' marks the Pareto frontier.");
    }

    private static Dictionary<string, int>? Ranks(IReadOnlyList<RankedModel>? ranking)
        => ranking?.ToDictionary(r => r.Label, r => r.Rank, StringComparer.Ordinal);

    private static void WriteJson(TextWriter output, string metric, IReadOnlyList<ScenarioFrontier> frontiers)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("metric", metric);
            w.WriteStartArray("scenarios");
            foreach (var s in frontiers)
            {
                w.WriteStartObject();
                w.WriteString("scenario", s.Scenario);
                w.WriteStartArray("models");
                for (var i = 0; i < s.Points.Count; i++)
                {
                    var p = s.Points[i];
                    w.WriteStartObject();
                    w.WriteString("model", p.Label);
                    w.WriteNumber("accuracy", p.Capability);
                    w.WriteNumber("metric", p.EfficiencyMetric);
                    w.WriteBoolean("on_frontier", s.OnFrontier[i]);
                    if (s.F1?.First(r => r.Label == p.Label) is { } f1)
                    {
                        w.WriteNumber("f1", f1.Score);
                        w.WriteNumber("f1_rank", f1.Rank);
                    }

                    if (s.F2?.First(r => r.Label == p.Label) is { } f2)
                    {
                        w.WriteNumber("f2", f2.Score);
                        w.WriteNumber("f2_rank", f2.Rank);
                    }

                    w.WriteEndObject();
                }

                w.WriteEndArray();
                if (s.RankingNote is { } note)
                {
                    w.WriteString("ranking_note", note);
                }

                w.WriteEndObject();
            }

            w.WriteEndArray();

            // The text's mean-rank table (Figure 10), where there are several scenarios to rank over.
            if (frontiers.Count > 1)
            {
                w.WriteStartArray("mean_ranks");
                foreach (var m in ModelMeanRank.Over(frontiers))
                {
                    w.WriteStartObject();
                    w.WriteString("model", m.Model);
                    w.WriteNumber("scenarios", m.Scenarios);
                    w.WriteNumber("on_frontier", m.OnFrontier);
                    if (m.MeanF1Rank is { } f1)
                    {
                        w.WriteNumber("mean_f1_rank", f1);
                    }

                    if (m.MeanF2Rank is { } f2)
                    {
                        w.WriteNumber("mean_f2_rank", f2);
                    }

                    w.WriteEndObject();
                }

                w.WriteEndArray();
            }

            w.WriteEndObject();
        }

        output.WriteLine(System.Text.Encoding.UTF8.GetString(stream.ToArray()));
    }
}
