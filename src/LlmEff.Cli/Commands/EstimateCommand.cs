using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using LlmEff.Core.Catalog;
using LlmEff.Core;
using LlmEff.Core.Energy;
using LlmEff.Core.Hardware;
using LlmEff.Core.Reference;
using LlmEff.Core.Workloads;

namespace LlmEff.Cli.Commands;

/// <summary><c>llmeff estimate</c>: runtime of a workload under one or more runtime models.</summary>
internal static class EstimateCommand
{
    /// <summary>The footnote of a '1*' in the GPUs column, with or without --batch.</summary>
    internal const string AssumedGpuFootnote = "1*: the model does not record how many GPUs serve it, so its cost and energy are for one GPU; a model that needs several costs that many times more (record accelerator_count in its metadata).";

    public static Command Create(TextWriter output, TextWriter error)
    {
        var models = new Option<string[]>("--model", "-m")
        {
            Description = "Table 3 model names (e.g. \"OpenAI/davinci\"), measured profile names, roofline:NAME[@ACCELERATOR] estimates, helm:NAME or helm-denoised:NAME rows of HELM's efficiency tables (see 'llmeff models') or paths to runtime-model JSON files. Default: every Table 3 model.",
            AllowMultipleArgumentsPerToken = true,
        };
        var metric = new Option<string>("--metric")
        {
            Description = "Table 3 metric for named models: idealized or denoised.",
            DefaultValueFactory = _ => "idealized",
        };
        metric.AcceptOnlyFromAmong("idealized", "denoised");
        var json = new Option<bool>("--json") { Description = "Write JSON instead of a table." };
        var workloadFile = new Option<FileInfo?>("--workload", "-w") { Description = "Workload CSV (prompt_tokens,output_tokens) or JSON; default: the built-in 1,000-query sample." };
        var accelerator = new Option<string?>("--accelerator")
        {
            Description = "Accelerator for idealized cost and energy (" + string.Join(", ", Accelerators.All.Select(a => a.Name)) + "); default A100-80GB for idealized Table 3 models, none otherwise.",
        };

        var batch = new Option<int?>("--batch") { Description = "Serve every query in a static batch of B queries of its (p, o) under batched runtime models (--model FILE: a <model>-batched-runtime-model.json): latency and idealized cost and energy per query." };
        var command = new Command("estimate", "Estimate the runtime, idealized cost and energy of a workload (default: the built-in 1,000-query sample) under the paper's Table 3 models or fitted models.")
        {
            models, metric, json, workloadFile, accelerator, batch,
        };
        var helm = new HelmCliOptions();
        helm.AddTo(command);
        command.SetAction(parse =>
        {
            var workload = CliInputs.ReadWorkload(parse.GetValue(workloadFile));
            var metricValue = parse.GetValue(metric) == "denoised" ? RuntimeMetric.Denoised : RuntimeMetric.Idealized;
            var hardware = parse.GetValue(accelerator) is { } name ? CliInputs.Accelerator(name) : null;
            if (parse.GetValue(batch) is { } b)
            {
                if (parse.GetValue(json))
                {
                    throw new ArgumentException("--batch writes a table; drop --json.");
                }

                return BatchedEstimate.Run(output, error, parse.GetValue(models), b, workload, hardware);
            }

            var selected = ResolveModels(parse.GetValue(models), metricValue, helm.Read(parse));
            foreach (var m in selected)
            {
                CliInputs.CheckWorkloadFits(m.Name, m.Model, workload);
                // A model predicting 0 s would price the workload at $0 and 0 J: refused, unless it is a non-physical fit
                // kept on purpose, whose warnings are printed just below.
                CliInputs.CheckPositiveRuntimes(m.Name, m.Model, workload, unlessKept: true);
                FitWarnings.Print(error, m.Model, m.Name);
            }

            var rows = selected.Select(m => Estimate(m.Name, m.Model, m.Energy, workload, hardware)).ToList();
            foreach (var r in rows.Where(r => r.MeasuredOverIdealized > 1))
            {
                // On its own GPUs measured energy cannot exceed t × n × board power: above 1 is a unit or GPU-count error, said.
                error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"llmeff: warning: {r.Model}: measured energy is {r.MeasuredOverIdealized:F3} × the idealized t × n × W bound on {r.AcceleratorName}, which it cannot exceed; check that the energy is in joules and the model's accelerator_count."));
            }

            // --metric picks Table 3's rows; a model file or profile carries its own metric, which is what its runtime is.
            var metrics = selected.Select(m => m.Model.Metadata.Metric is RuntimeMetric.Unspecified ? metricValue : m.Model.Metadata.Metric).Distinct().ToArray();
            metricValue = metrics.Length == 1 ? metrics[0] : RuntimeMetric.Unspecified;
            if (parse.GetValue(json))
            {
                WriteJson(output, workload, metricValue, rows);
            }
            else
            {
                WriteTable(output, workload, metricValue, rows);
            }

            return 0;
        });
        return command;
    }

    private static List<(string Name, RuntimeModel Model, EnergyModel? Energy)> ResolveModels(string[]? names, RuntimeMetric metric, HelmTableOptions helm)
    {
        if (names is null || names.Length == 0)
        {
            return PaperTable3.All.Where(r => r.Metric == metric).Select(r => (r.ModelName, r.Model, (EnergyModel?)null)).ToList();
        }

        return names.Select(n =>
        {
            if (string.IsNullOrWhiteSpace(n))
            {
                throw new ArgumentException("--model \"\": empty model name; pass a Table 3 name (e.g. \"OpenAI/davinci\"), a profile name, roofline:NAME, helm:NAME or a runtime-model JSON path (see 'llmeff models').");
            }

            var (name, model) = ModelCatalog.Resolve(n, metric, helm);
            return (name, model, ModelCatalog.ResolveEnergy(n));
        }).ToList();
    }

    internal sealed record EstimateRow(string Model, int? Accelerators, double PromptEncoding512Seconds, double PerOutputTokenSeconds, double MeanSeconds, double P90Seconds, double TotalSeconds, int ExtrapolatedQueries)
    {
        public string? AcceleratorName { get; init; }

        public double? TotalDollarCostUsd { get; init; }

        public double? TotalEnergyJoules { get; init; }

        /// <summary>Measured energy of the workload from the profile's NVML energy model, when it has one.</summary>
        public double? TotalMeasuredEnergyJoules { get; init; }

        /// <summary>Measured joules per output token (<c>e</c>), when the profile carries energy.</summary>
        public double? MeasuredPerOutputTokenJoules { get; init; }

        /// <summary>The profile's own accelerator, where the measured energy came from, when it is not the one pricing the row.</summary>
        public string? MeasuredAcceleratorName { get; init; }

        /// <summary>
        /// Measured over idealized energy of the workload: how far below the <c>t × n × W</c> upper bound the GPU stayed; null
        /// when priced on another accelerator than the one measured, where the ratio compares two GPUs and means nothing.
        /// </summary>
        public double? MeasuredOverIdealized => MeasuredAcceleratorName is null ? TotalMeasuredEnergyJoules / TotalEnergyJoules : null;

        /// <summary>Priced (cost or energy) although the model records no GPU count: on one GPU, which the output says.</summary>
        public bool PricedOnAssumedGpu => Accelerators is null && (TotalDollarCostUsd is not null || TotalEnergyJoules is not null);
    }

    private static EstimateRow Estimate(string name, RuntimeModel model, EnergyModel? energy, Workload workload, Accelerator? accelerator)
    {
        var own = CliInputs.DefaultAccelerator(model);
        accelerator ??= own;
        // Measured energy is of the profile's own GPUs; a model that names none is taken to run on the accelerator passed.
        var measuredElsewhere = energy is not null && own is not null && accelerator is not null && !string.Equals(own.Name, accelerator.Name, StringComparison.Ordinal);
        var estimate = WorkloadEstimator.Estimate(workload, ServingConfiguration.For(model, accelerator) with { Name = name });
        var seconds = estimate.RuntimeSeconds.ToArray();
        var extrapolated = 0;
        foreach (var p in workload.PromptTokens)
        {
            if (model.IsExtrapolated(p))
            {
                extrapolated++;
            }
        }

        return new EstimateRow(
            name,
            model.Metadata.AcceleratorCount,
            model.PromptEncodingSeconds(512),
            model.PerOutputTokenSeconds,
            seconds.Average(),
            Percentiles.Of(seconds, 90),
            seconds.Sum(),
            extrapolated)
        {
            AcceleratorName = accelerator?.Name,
            TotalDollarCostUsd = estimate.TotalDollarCostUsd,
            TotalEnergyJoules = estimate.TotalEnergyJoules,
            TotalMeasuredEnergyJoules = energy?.PredictTotalJoules(workload.PromptTokens, workload.OutputTokens),
            MeasuredPerOutputTokenJoules = energy?.PerOutputTokenJoules,
            MeasuredAcceleratorName = measuredElsewhere ? own!.Name : null,
        };
    }

    private static void WriteTable(TextWriter output, Workload workload, RuntimeMetric metric, List<EstimateRow> rows)
    {
        var inv = CultureInfo.InvariantCulture;
        var kind = metric == RuntimeMetric.Unspecified ? "Runtime (each model's own metric)" : $"{metric} runtime";
        output.WriteLine($"{kind} of workload '{workload.Name}' ({workload.Count:N0} queries); parameters from the paper's Table 3 unless another model was named.");
        output.WriteLine();
        // The measured-energy columns appear only when some profile carries an energy model, so the usual table is unchanged.
        var measured = rows.Any(r => r.TotalMeasuredEnergyJoules is not null);
        string[] header = ["model", "GPUs", "PE(512) s", "g s/token", "mean s", "p90 s", "total s", "cost $", "energy kWh", .. (measured ? new[] { "measured kWh", "measured/ideal" } : []), "extrapolated"];
        var cells = rows.Select(r => (string[])
        [
            r.Model,
            // Priced without a recorded count, a row is priced on one GPU: marked, never silently (a 175B model on one GPU is not).
            r.Accelerators?.ToString(inv) ?? (r.PricedOnAssumedGpu ? "1*" : "-"),
            r.PromptEncoding512Seconds.ToString("F3", inv),
            r.PerOutputTokenSeconds.ToString("F3", inv),
            r.MeanSeconds.ToString("F3", inv),
            r.P90Seconds.ToString("F3", inv),
            r.TotalSeconds.ToString("F1", inv),
            r.TotalDollarCostUsd?.ToString("F4", inv) ?? "-",
            r.TotalEnergyJoules is { } e ? (e / 3.6e6).ToString("F4", inv) : "-",
            .. (measured ? new[] { r.TotalMeasuredEnergyJoules is { } me ? (me / 3.6e6).ToString("F4", inv) : "-", r.MeasuredOverIdealized?.ToString("F3", inv) ?? "-" } : []),
            r.ExtrapolatedQueries.ToString(inv),
        ]).ToList();
        var widths = header.Select((h, i) => Math.Max(h.Length, cells.Count == 0 ? 0 : cells.Max(c => c[i].Length))).ToArray();
        output.WriteLine(string.Join("  ", header.Select((h, i) => i == 0 ? h.PadRight(widths[i]) : h.PadLeft(widths[i]))));
        output.WriteLine(string.Join("  ", widths.Select(w => new string('-', w))));
        foreach (var c in cells)
        {
            output.WriteLine(string.Join("  ", c.Select((v, i) => i == 0 ? v.PadRight(widths[i]) : v.PadLeft(widths[i]))));
        }

        output.WriteLine();
        // Models default to their own hardware (a HELM A100 table beside an H100 profile), so name every accelerator used.
        var used = rows.Select(r => r.AcceleratorName).OfType<string>().Distinct(StringComparer.Ordinal).ToList();
        var on = used.Count switch
        {
            0 => string.Empty,
            1 => $" of {used[0]}",
            _ => $" of each model's accelerator ({string.Join(", ", used)})",
        };
        output.WriteLine("cost and energy: idealized (paper §4.2), runtime × GPUs × hourly price or board power" + on + "; '-' where the hardware is unknown (pass --accelerator).");
        if (rows.Any(r => r.PricedOnAssumedGpu))
        {
            output.WriteLine(AssumedGpuFootnote);
        }
        if (measured)
        {
            output.WriteLine("measured energy: the profile's NVML energy model E(p,o) = E_pe(p) + (o-1)·e summed over the workload; measured/ideal is how far below the idealized t × n × W bound the GPUs stayed.");
            foreach (var r in rows.Where(r => r.MeasuredAcceleratorName is not null))
            {
                output.WriteLine($"measured/ideal '-' for {r.Model}: its energy was measured on {r.MeasuredAcceleratorName}, priced here on {r.AcceleratorName}; a ratio across two accelerators means nothing (drop --accelerator for it).");
            }
        }

        output.WriteLine("extrapolated: queries whose prompt size lies outside the model's profiled prompt sizes (PE taken from the nearest segment).");
    }

    private static void WriteJson(TextWriter output, Workload workload, RuntimeMetric metric, List<EstimateRow> rows)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("workload", workload.Name);
            w.WriteNumber("queries", workload.Count);
            w.WriteString("metric", metric == RuntimeMetric.Unspecified ? "mixed" : metric.ToString().ToLowerInvariant());
            w.WriteStartArray("models");
            foreach (var r in rows)
            {
                w.WriteStartObject();
                w.WriteString("model", r.Model);
                if (r.Accelerators is { } a)
                {
                    w.WriteNumber("accelerators", a);
                }
                else if (r.PricedOnAssumedGpu)
                {
                    // Priced on one GPU because the model records no count: said, so a reader does not take it as measured.
                    w.WriteNumber("accelerators", 1);
                    w.WriteBoolean("accelerators_assumed", true);
                }

                w.WriteNumber("prompt_encoding_512_seconds", r.PromptEncoding512Seconds);
                w.WriteNumber("per_output_token_seconds", r.PerOutputTokenSeconds);
                w.WriteNumber("mean_seconds", r.MeanSeconds);
                w.WriteNumber("p90_seconds", r.P90Seconds);
                w.WriteNumber("total_seconds", r.TotalSeconds);
                w.WriteNumber("extrapolated_queries", r.ExtrapolatedQueries);
                if (r.AcceleratorName is { } acc)
                {
                    w.WriteString("accelerator", acc);
                }

                if (r.TotalDollarCostUsd is { } cost)
                {
                    w.WriteNumber("total_cost_usd", cost);
                }

                if (r.TotalEnergyJoules is { } energy)
                {
                    w.WriteNumber("total_energy_joules", energy);
                }

                if (r.TotalMeasuredEnergyJoules is { } measuredEnergy)
                {
                    w.WriteNumber("total_measured_energy_joules", measuredEnergy);
                    w.WriteNumber("measured_energy_per_output_token_joules", r.MeasuredPerOutputTokenJoules!.Value);
                    if (r.MeasuredAcceleratorName is { } measuredOn)
                    {
                        // Says why the ratio is absent: measured on other GPUs than those pricing the row.
                        w.WriteString("measured_on_accelerator", measuredOn);
                    }

                    if (r.MeasuredOverIdealized is { } ratio)
                    {
                        w.WriteNumber("measured_over_idealized_energy", ratio);
                    }
                }

                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        output.WriteLine(System.Text.Encoding.UTF8.GetString(stream.ToArray()));
    }
}
