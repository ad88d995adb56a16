using System.CommandLine;
using LlmEff.Cli.Plotting;
using LlmEff.Core;
using LlmEff.Core.Metrics;
using LlmEff.Core.Serialization;
using LlmEff.Core.Workloads;
using LlmEff.Profiling.Api;
using ScottPlot;

namespace LlmEff.Cli.Commands;

/// <summary><c>llmeff plot</c>: the paper's figures as PNG or SVG (by the output's extension).</summary>
internal static class PlotCommand
{
    public static Command Create(TextWriter output)
    {
        var command = new Command("plot", "Draw the paper's figures as PNG or SVG: runtime (Figure 3), prompt-encoding (Figure 4), predicted (Figure 7), pareto (Figure 9), load-study (latency and goodput against load), batching (cost per query against latency).")
        {
            RuntimeCommand("runtime", "Runtime vs output tokens per prompt size, with the fitted lines (Figure 3).", output, (s, m, t) => RuntimeFigures.RuntimeVsOutputTokens(s, m, t)),
            RuntimeCommand("prompt-encoding", "Prompt-encoding time PE vs prompt size: per-size intercepts and the fitted PE (Figure 4).", output, (s, m, t) => RuntimeFigures.PromptEncoding(s, m, t)),
            RuntimeCommand("predicted", "Predicted vs measured runtime for every sample, with y = x (Figure 7).", output, (s, m, t) => RuntimeFigures.PredictedVsMeasured(s, m, t)),
            ParetoPlot(output),
            LoadStudyPlot(output),
            BatchingPlot(output),
        };
        return command;
    }

    private static Option<FileInfo> OutputOption() => new("--output", "-o") { Description = "Figure file: .png or .svg (SVG draws every line solid: Skia cannot dash there).", Required = true };

    private static Command RuntimeCommand(string name, string description, TextWriter output, Func<IReadOnlyList<ProfilingSample>, RuntimeModel, string, Plot> draw)
    {
        var samples = new Argument<FileInfo>("samples") { Description = "Samples CSV: prompt_tokens,output_tokens,runtime_seconds[,...] (e.g. a profiler's output)." };
        var model = new Option<FileInfo?>("--model", "-m") { Description = "Runtime-model JSON to draw; default: fit the samples (paper §3.4, minimum over trials)." };
        var title = new Option<string?>("--title") { Description = "Figure title; default: the samples file name." };
        var file = OutputOption();
        var keep = FitWarnings.KeepOption();
        var command = new Command(name, description) { samples, model, title, file, keep };
        command.SetAction(parse =>
        {
            var samplesFile = parse.GetValue(samples)!;
            if (!samplesFile.Exists)
            {
                throw new FileNotFoundException($"samples file '{samplesFile.FullName}' does not exist; pass a CSV with the header prompt_tokens,output_tokens,runtime_seconds (e.g. written by 'llmeff profile').", samplesFile.FullName);
            }

            CliInputs.EnsureText(samplesFile.FullName, "a samples CSV (prompt_tokens,output_tokens,runtime_seconds)");
            var data = ProfilingSampleCsv.ReadFile(samplesFile.FullName);
            if (data.Count == 0)
            {
                // Every figure draws the measured samples, so a header alone is refused whether or not --model gives the model.
                throw new ArgumentException($"{samplesFile.Name}: no samples, only a header; the figure draws measured runtimes, so pass a CSV with data rows prompt_tokens,output_tokens,runtime_seconds (e.g. written by 'llmeff profile').");
            }

            var runtime = parse.GetValue(model) is { } m ? LoadModel(m, data) : CliInputs.Fit(samplesFile, data, new RuntimeFitOptions { KeepNonPhysicalFit = parse.GetValue(keep) });
            FitWarnings.Print(output, runtime);
            var target = parse.GetValue(file)!.FullName;
            FigureFile.Save([draw(data, runtime, parse.GetValue(title) ?? samplesFile.Name)], 1, target, 720, 520);
            output.WriteLine($"figure written to {target}");
            return 0;
        });
        return command;
    }

    private static Command LoadStudyPlot(TextWriter output)
    {
        var journal = new Argument<FileInfo>("journal") { Description = "Journal of a load study ('llmeff profile api --concurrency ...' or '--request-rate ...')." };
        var slo = new Option<string?>("--slo") { Description = "Objectives for goodput in seconds, e.g. ttft=0.5,tpot=0.05,e2e=10." };
        var title = new Option<string?>("--title") { Description = "Figure title; default: the journal file name." };
        var file = OutputOption();
        var command = new Command("load-study", "TTFT, TPOT and end-to-end latency (p50/p90/p99), throughput and goodput against concurrency or request rate.") { journal, slo, title, file };
        command.SetAction(parse =>
        {
            var objectives = parse.GetValue(slo) is { } text ? ProfileLoadStudy.ParseObjectives(text) : null;
            var journalFile = parse.GetValue(journal)!;
            if (!journalFile.Exists)
            {
                throw new FileNotFoundException($"journal '{journalFile.FullName}' does not exist; pass the --journal of a load study.", journalFile.FullName);
            }

            var levels = LoadStudyAnalysis.Summarize(ApiSampleJournal.Read(journalFile.FullName), objectives);
            if (levels.Select(l => l.Mode).Distinct().Count() > 1)
            {
                throw new ArgumentException($"'{journalFile.Name}' mixes concurrency and request-rate levels; plot a journal of one load study.");
            }

            ProfileLoadStudy.Print(output, levels, objectives);
            var target = parse.GetValue(file)!.FullName;
            FigureFile.Save(LoadStudyFigure.Panels(levels, parse.GetValue(title) ?? journalFile.Name), 2, target);
            output.WriteLine($"figure written to {target}");
            return 0;
        });
        return command;
    }

    private static RuntimeModel LoadModel(FileInfo file, IReadOnlyList<ProfilingSample> samples)
    {
        var model = file.Exists ? RuntimeModelJson.Load(file.FullName) : throw new FileNotFoundException($"model file '{file.FullName}' does not exist.", file.FullName);
        // A model predicting 0 s would draw a flat line at zero as if it were a runtime: refused, unless it is a
        // non-physical fit kept on purpose, whose warnings the command prints.
        CliInputs.CheckPositiveRuntimes(file.Name, model, new Workload(file.Name, samples.Select(s => new WorkloadQuery(s.PromptTokens, s.OutputTokens))), unlessKept: true);

        return model;
    }

    private static Command BatchingPlot(TextWriter output)
    {
        var model = new Argument<FileInfo>("model") { Description = "Batched runtime-model JSON (<model>-batched-runtime-model.json from 'llmeff profile torch --batch-sizes')." };
        var prompt = new Option<int>("--prompt-tokens", "-p") { Description = "Prompt size p of every query.", DefaultValueFactory = _ => 1536 };
        var outputs = new Option<int>("--output-tokens") { Description = "Output tokens o of every query.", DefaultValueFactory = _ => 64 };
        var accelerator = new Option<string?>("--accelerator") { Description = "Accelerator pricing the GPU time; default: the model's own hardware." };
        var tpot = new Option<double?>("--max-tpot-ms") { Description = "Latency bound: largest time per output token in milliseconds; the cheapest batch meeting it is marked." };
        var e2e = new Option<double?>("--max-latency") { Description = "Latency bound: largest end-to-end runtime in seconds." };
        var title = new Option<string?>("--title") { Description = "Figure title; default: the model and (p, o)." };
        var file = OutputOption();
        var command = new Command("batching", "Idealized cost per query against latency for static batches b = 1 .. the largest profiled, with the cheapest batch under a latency bound.")
        {
            model, prompt, outputs, accelerator, tpot, e2e, title, file,
        };
        command.SetAction(parse =>
        {
            var batched = BatchedEstimate.Load(parse.GetValue(model)!.FullName, "<model>");
            var hardware = parse.GetValue(accelerator) is { } name ? CliInputs.Accelerator(name) : LlmEff.Core.Hardware.Accelerators.ForProfile(batched.Metadata)
                ?? throw new ArgumentException("the model names no known accelerator; pass --accelerator (e.g. H100-SXM) to price the GPU time.");
            var (p, o) = (parse.GetValue(prompt), parse.GetValue(outputs));
            if (p < 0 || o < 1)
            {
                throw new ArgumentException($"--prompt-tokens {p} --output-tokens {o}: give a prompt of 0 or more tokens and at least 1 output token.");
            }

            // As estimate: a query longer than the model's context cannot run, so it is not priced.
            CliInputs.CheckWorkloadFits(batched.Metadata.ModelName ?? parse.GetValue(model)!.Name, batched.Metadata, new Workload("--prompt-tokens/--output-tokens", [new WorkloadQuery(p, o)]));

            // Each bound is checked here in its own unit, so the message names one option (the library speaks of seconds).
            var maxTpotMs = parse.GetValue(tpot);
            if (maxTpotMs is { } ms && !(double.IsFinite(ms) && ms > 0))
            {
                throw new ArgumentException(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"--max-tpot-ms {ms}: give a positive number of milliseconds per output token (e.g. 50), or omit it for no bound."));
            }

            var maxLatency = parse.GetValue(e2e);
            if (maxLatency is { } sec && !(double.IsFinite(sec) && sec > 0))
            {
                throw new ArgumentException(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"--max-latency {sec}: give a positive number of seconds end to end (e.g. 10), or omit it for no bound."));
            }

            var bound = new LlmEff.Core.Batching.BatchLatencyBound { MaxTimePerOutputTokenSeconds = maxTpotMs / 1e3, MaxEndToEndSeconds = maxLatency };

            var accelerators = batched.Metadata.AcceleratorCount ?? 1;
            var choice = LlmEff.Core.Batching.BatchServing.ChooseBatchSize(batched, p, o, hardware, accelerators, bound: bound);
            output.WriteLine(choice.Explanation);
            var target = parse.GetValue(file)!.FullName;
            var caption = parse.GetValue(title) ?? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{batched.Metadata.ModelName ?? "model"}: p = {p}, o = {o} on {(accelerators > 1 ? $"{accelerators} × " : string.Empty)}{hardware.Name}");
            FigureFile.Save([BatchingFigure.CostVersusLatency(choice, caption)], 1, target, 720, 520);
            output.WriteLine($"figure written to {target}");
            return 0;
        });
        return command;
    }

    private static Command ParetoPlot(TextWriter output)
    {
        var accuracies = new Option<FileInfo>("--accuracies", "-a") { Description = "Accuracy CSV as for 'llmeff pareto' (generic, or HELM's run file).", Required = true };
        var metrics = new Option<string[]>("--metric") { Description = "Efficiency metrics, one row of panels each (e.g. raw denoised idealized).", AllowMultipleArgumentsPerToken = true, DefaultValueFactory = _ => ["idealized"] };
        var scenarios = new Option<string[]>("--scenario", "-s") { Description = "Scenarios, one column of panels each (default: all with enough models; at most 8).", AllowMultipleArgumentsPerToken = true };
        var models = new Option<string[]>("--models") { Description = "Only these models.", AllowMultipleArgumentsPerToken = true };
        var accuracyColumn = new Option<string?>("--accuracy-column") { Description = "Accuracy column; default 'accuracy' (HELM: 'exact_match')." };
        var denoisedTable = new Option<FileInfo?>("--denoised-table") { Description = "HELM denoised efficiency table, for the 'denoised' metric of HELM run files." };
        var minimum = new Option<int>("--min-models") { Description = "Skip scenarios with fewer models.", DefaultValueFactory = _ => 2 };
        var file = OutputOption();
        var command = new Command("pareto", "Accuracy vs efficiency metrics per scenario with the Pareto frontier (Figure 9): rows are metrics, columns scenarios.")
        {
            accuracies, metrics, scenarios, models, accuracyColumn, denoisedTable, minimum, file,
        };
        command.SetAction(parse =>
        {
            var metricNames = parse.GetValue(metrics)!;
            // The figure shows the frontier only, so no ranking is computed (rankings need metric-specific domains).
            var rows = metricNames.Select(m => ParetoCommand.Analyze(
                parse.GetValue(accuracies)!.FullName, parse.GetValue(accuracyColumn), parse.GetValue(denoisedTable)?.FullName,
                new ScenarioFrontierOptions(m) { Scenarios = parse.GetValue(scenarios), Models = parse.GetValue(models), MinimumModels = parse.GetValue(minimum), Rank = false })).ToArray();

            // Columns are the scenarios every metric has, so the grid is rectangular.
            var columns = rows.Select(r => r.Select(s => s.Scenario)).Aggregate((a, b) => a.Intersect(b, StringComparer.Ordinal)).ToArray();
            if (columns.Length == 0)
            {
                throw new ArgumentException($"no scenario has every metric of {string.Join(", ", metricNames)}; drop a metric or pick scenarios.");
            }

            if (columns.Length > 8)
            {
                throw new ArgumentException($"{columns.Length} scenarios would make an unreadable figure; pick at most 8 with --scenario (e.g. boolq imdb).");
            }

            var colors = CapabilityFigure.ModelColors(rows.SelectMany(r => r.SelectMany(s => s.Points.Select(p => p.Label))));
            var panels = new List<Plot>();
            for (var m = 0; m < rows.Length; m++)
            {
                foreach (var (scenario, c) in columns.Select((s, c) => (s, c)))
                {
                    var frontier = rows[m].Single(s => s.Scenario == scenario);
                    panels.Add(CapabilityFigure.Panel(frontier, metricNames[m] is "raw" or "denoised" or "idealized" ? $"{metricNames[m]} runtime (s)" : metricNames[m], colors, legend: m == 0 && c == 0));
                }
            }

            var target = parse.GetValue(file)!.FullName;
            FigureFile.Save(panels, columns.Length, target);
            output.WriteLine($"figure written to {target}");
            return 0;
        });
        return command;
    }
}
