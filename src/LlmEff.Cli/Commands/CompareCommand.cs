using System.CommandLine;
using System.Globalization;
using LlmEff.Core.Catalog;
using LlmEff.Core;
using LlmEff.Core.Workloads;

namespace LlmEff.Cli.Commands;

/// <summary>
/// <c>llmeff compare A B</c>: configuration B against configuration A (hardware or software) over a workload, per
/// query and in total (paper §5.3, Figure 8).
/// </summary>
internal static class CompareCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var a = new Argument<string>("A") { Description = "Baseline: a runtime-model JSON file, a shipped profile name, roofline:NAME[@ACCELERATOR] or helm:NAME / helm-denoised:NAME." };
        var b = new Argument<string>("B") { Description = "Candidate, compared against A (same forms as A)." };
        var workloadFile = new Option<FileInfo?>("--workload", "-w") { Description = "Workload CSV (prompt_tokens,output_tokens) or JSON; default: the built-in 1,000-query sample." };
        var metric = new Option<string>("--metric") { Description = "Table 3 metric for named models: idealized or denoised.", DefaultValueFactory = _ => "idealized" };
        metric.AcceptOnlyFromAmong("idealized", "denoised");
        var acceleratorA = new Option<string?>("--accelerator-a") { Description = "Accelerator pricing A's cost and energy; default: the one A's metadata names (A100-80GB for idealized Table 3 rows)." };
        var acceleratorB = new Option<string?>("--accelerator-b") { Description = "Accelerator pricing B's cost and energy; default as for A." };
        var perQuery = new Option<FileInfo?>("--per-query") { Description = "Also write every query's runtimes, speedup and cost ratio to this CSV." };
        var json = new Option<bool>("--json") { Description = "Write JSON (summary and every query) instead of a table." };
        var command = new Command("compare", "Compare configuration B against A (e.g. A100 vs V100, or two software stacks) over a workload: per-query speedup and cost ratio, and their summary (paper §5.3, Figure 8).")
        {
            a, b, workloadFile, metric, acceleratorA, acceleratorB, perQuery, json,
        };
        var helm = new HelmCliOptions();
        helm.AddTo(command);
        command.SetAction(parse =>
        {
            CliInputs.CheckOutputFile(parse.GetValue(perQuery), "--per-query");
            var workload = CliInputs.ReadWorkload(parse.GetValue(workloadFile));
            var metricValue = parse.GetValue(metric) == "denoised" ? RuntimeMetric.Denoised : RuntimeMetric.Idealized;
            var helmTables = helm.Read(parse);
            // ModelCatalog's own message for an empty name names neither argument nor what to pass.
            if (string.IsNullOrWhiteSpace(parse.GetValue(a)) || string.IsNullOrWhiteSpace(parse.GetValue(b)))
            {
                throw new ArgumentException($"compare {(string.IsNullOrWhiteSpace(parse.GetValue(a)) ? "A (the first model)" : "B (the second model)")} is empty; pass a runtime-model JSON file, a profile name, roofline:NAME or helm:NAME (see 'llmeff models').");
            }

            var baseline = Configure(ModelCatalog.Resolve(parse.GetValue(a)!, metricValue, helmTables), parse.GetValue(acceleratorA));
            var candidate = Configure(ModelCatalog.Resolve(parse.GetValue(b)!, metricValue, helmTables), parse.GetValue(acceleratorB));
            if (string.Equals(baseline.Name, candidate.Name, StringComparison.Ordinal))
            {
                candidate = candidate with { Name = candidate.Name + " (B)" };
            }

            foreach (var c in new[] { baseline, candidate })
            {
                CliInputs.CheckWorkloadFits(c.Name, c.Runtime, workload);
                CliInputs.CheckPositiveRuntimes(c.Name, c.Runtime, workload);
                FitWarnings.Print(error, c.Runtime, c.Name);
            }

            var comparison = WorkloadComparison.Compute(workload, baseline, candidate);
            if (parse.GetValue(perQuery) is { } file)
            {
                comparison.WritePerQueryCsv(file.FullName);
            }

            if (parse.GetValue(json))
            {
                comparison.WriteJson(output);
            }
            else
            {
                CompareReport.WriteSummary(output, comparison);
                if (parse.GetValue(perQuery) is { } written)
                {
                    output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"per-query results written to {written.FullName}"));
                }
            }

            return 0;
        });
        return command;
    }

    private static ServingConfiguration Configure(ResolvedModel resolved, string? acceleratorName)
    {
        var accelerator = acceleratorName is null ? CliInputs.DefaultAccelerator(resolved.Model) : CliInputs.Accelerator(acceleratorName);
        return ServingConfiguration.For(resolved.Model, accelerator) with { Name = resolved.Name };
    }
}
