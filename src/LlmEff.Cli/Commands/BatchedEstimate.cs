using System.Globalization;
using LlmEff.Core;
using LlmEff.Core.Architecture;
using LlmEff.Core.Batching;
using LlmEff.Core.Hardware;
using LlmEff.Core.Workloads;

namespace LlmEff.Cli.Commands;

/// <summary>
/// <c>llmeff estimate --batch B</c>: every query of the workload served in a static batch of <c>B</c> queries of its own
/// <c>(p, o)</c> under a batched runtime model: latency (the batch's runtime) and idealized cost and energy per query,
/// <c>t · n · price / B</c>.
/// </summary>
internal static class BatchedEstimate
{
    public static int Run(TextWriter output, TextWriter error, string[]? modelPaths, int batchSize, Workload workload, Accelerator? accelerator)
    {
        var inv = CultureInfo.InvariantCulture;
        if (batchSize < 1)
        {
            throw new ArgumentException($"--batch {batchSize}: a batch holds 1 or more queries; pass e.g. --batch 8.");
        }

        if (modelPaths is null || modelPaths.Length == 0)
        {
            throw new ArgumentException("--batch needs a batched runtime model: pass --model FILE with a <model>-batched-runtime-model.json (from 'llmeff profile torch --batch-sizes 1,4,16').");
        }

        // Every model is loaded before anything is printed: a bad file fails with its one error line and no half table.
        var models = modelPaths.Select(path => (Path: path, Model: Load(path, "--model"))).ToArray();
        string[] header = ["model", "GPUs", "b", "mean latency s", "p90 latency s", "mean TPOT ms", "cost $/query", "energy J/query", "total cost $", "extrapolated"];
        var rows = new List<string[]>();
        var anyAssumedGpu = false;
        foreach (var (path, model) in models)
        {
            var name = model.Metadata.ModelName ?? Path.GetFileNameWithoutExtension(path);
            CliInputs.CheckWorkloadFits(name, model.Metadata, workload);
            var hardware = accelerator ?? Accelerators.ForProfile(model.Metadata);
            var n = model.Metadata.AcceleratorCount ?? 1;
            // A batch whose weights and KV caches exceed the accelerators' memory cannot run, however cheap its price would be.
            if (hardware is not null && model.Metadata.ModelName is { } archName && ArchitectureCatalog.TryGet(archName, out var architecture))
            {
                var context = Enumerable.Range(0, workload.Count).Max(i => workload.PromptTokens[i] + workload.OutputTokens[i] - 1);
                BatchMemoryPlan.For(architecture, hardware, Math.Max(1, context), tensorParallelDegree: n).EnsureFits(batchSize);
            }
            else
            {
                error.WriteLine($"llmeff: note: {name}: memory not checked ({(hardware is null ? "no accelerator: pass --accelerator" : "its architecture is not in the catalog")}); a batch of {batchSize} is priced as if it fit.");
            }

            // After the memory check: a batch that cannot run gets its one error line, not a warning first.
            if (model.IsBatchSizeExtrapolated(batchSize))
            {
                error.WriteLine(string.Create(inv, $"llmeff: warning: {name}: batch {batchSize} lies outside the profiled batch sizes {model.MinimumProfiledBatchSize}..{model.MaximumProfiledBatchSize}; its runtimes are extrapolated from the nearest profiled segment."));
            }

            // As estimate without --batch: a model that does not record its GPU count is priced on one, and marked so.
            var assumedGpu = model.Metadata.AcceleratorCount is null && hardware is not null;
            anyAssumedGpu |= assumedGpu;
            var latencies = new double[workload.Count];
            double tpot = 0, costPerQuery = 0, energyPerQuery = 0;
            int extrapolated = 0, decoding = 0;
            for (var i = 0; i < workload.Count; i++)
            {
                var p = workload.PromptTokens[i];
                var o = workload.OutputTokens[i];
                var prediction = model.Explain(p, o, batchSize);
                latencies[i] = prediction.BatchSeconds;
                // A one-token query has no time between tokens; counting its prefill would make the mean a prefill time.
                if (o > 1)
                {
                    tpot += prediction.TimePerOutputTokenSeconds;
                    decoding++;
                }

                extrapolated += prediction.IsExtrapolated ? 1 : 0;
                if (hardware is not null)
                {
                    var cost = BatchServing.PerQuery(model, p, o, batchSize, hardware, n);
                    costPerQuery += cost.CostPerQueryUsd;
                    energyPerQuery += cost.EnergyPerQueryJoules;
                }
            }

            rows.Add(
            [
                name,
                assumedGpu ? "1*" : n.ToString(inv),
                batchSize.ToString(inv),
                latencies.Average().ToString("F3", inv),
                Percentiles.Of(latencies, 90).ToString("F3", inv),
                decoding == 0 ? "-" : (tpot / decoding * 1e3).ToString("F2", inv),
                hardware is null ? "-" : (costPerQuery / workload.Count).ToString("E3", inv),
                hardware is null ? "-" : (energyPerQuery / workload.Count).ToString("F2", inv),
                // Four decimals would show a workload of a few cheap queries as $0.0000 beside a non-zero cost per query.
                hardware is null ? "-" : costPerQuery.ToString(costPerQuery is > 0 and < 0.01 ? "E3" : "F4", inv),
                extrapolated.ToString(inv),
            ]);
        }

        // Every row is computed (and checked) before the title, so a query that fails leaves nothing on stdout.
        output.WriteLine(string.Create(inv, $"idealized runtime of workload '{workload.Name}' ({workload.Count:N0} queries), each served in a static batch of {batchSize} queries of its (p, o)"));
        output.WriteLine();
        var widths = header.Select((h, i) => Math.Max(h.Length, rows.Max(c => c[i].Length))).ToArray();
        output.WriteLine(string.Join("  ", header.Select((h, i) => i == 0 ? h.PadRight(widths[i]) : h.PadLeft(widths[i]))));
        output.WriteLine(string.Join("  ", widths.Select(w => new string('-', w))));
        foreach (var c in rows)
        {
            output.WriteLine(string.Join("  ", c.Select((v, i) => i == 0 ? v.PadRight(widths[i]) : v.PadLeft(widths[i]))));
        }

        output.WriteLine();
        output.WriteLine("latency: the whole batch's runtime t(p, o, b); cost and energy per query: t × GPUs × hourly price or board power / b (idealized, paper §4.2 shared by the batch); '-' where the hardware is unknown (pass --accelerator).");
        output.WriteLine("mean TPOT: decode time over o − 1 steps, averaged over the queries with o > 1; '-' when every query has o = 1.");
        output.WriteLine("extrapolated: queries whose prompt size or batch size lies outside what was profiled.");
        if (anyAssumedGpu)
        {
            output.WriteLine(EstimateCommand.AssumedGpuFootnote);
        }

        return 0;
    }

    /// <summary>Reads a batched runtime model file, saying what to pass instead when it is something else.</summary>
    /// <param name="path">The file.</param>
    /// <param name="what">What the command calls it in messages: estimate's <c>--model</c>, plot batching's <c>&lt;model&gt;</c>.</param>
    internal static BatchedRuntimeModel Load(string path, string what)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"{what} '{path}': no such file; pass a <model>-batched-runtime-model.json written by 'llmeff profile torch --batch-sizes'.", path);
        }

        try
        {
            return BatchedRuntimeModel.Load(path);
        }
        catch (InvalidDataException ex)
        {
            throw new ArgumentException($"{what} {ex.Message}", ex);
        }
    }
}
