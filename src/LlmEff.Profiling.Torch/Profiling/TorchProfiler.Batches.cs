using System.Diagnostics;
using LlmEff.Core;
using LlmEff.Core.Serialization;
using Microsoft.Extensions.Logging;

namespace LlmEff.Profiling.Torch;

// Static batches: the batched decoder's points, timed and resumed like single queries.
public sealed partial class TorchProfiler
{
    /// <summary>
    /// Profiles static batches with an already built batched decoder: every point of <see cref="ProfilingPlan.BatchedPoints"/>,
    /// timed like <see cref="TimeQuery"/>; samples carry their batch size and resume by (p, o, b, trial). Energy is not
    /// measured for batches.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The decoder's cache is too small for the plan, or it does not serve one of the plan's batch sizes.</exception>
    /// <exception cref="InvalidOperationException">The samples file holds another model or precision.</exception>
    public TorchProfile Run(BatchedGreedyDecoder decoder, ProfilingPlan plan, string? samplesPath = null, IProgress<ProfilingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(decoder);
        CheckPlan(plan, decoder.CapacityTokens, "BatchedGreedyDecoder(model, plan.CapacityTokens, plan.BatchSizes)");

        var missing = plan.BatchSizes.Except(decoder.BatchSizes).ToArray();
        if (missing.Length > 0)
        {
            throw new ArgumentOutOfRangeException(nameof(plan), string.Join(",", missing), $"The decoder serves batch sizes {string.Join(",", decoder.BatchSizes)}, not {string.Join(",", missing)}; a smaller batch would run padded and be timed as the larger one. Build it with the plan's batch sizes.");
        }

        var model = decoder.Model;
        var setup = SetupOf(model, plan);
        var label = setup.Source;
        var points = plan.BatchedPoints().ToList();
        var done = new Dictionary<(int, int, int, int), ProfilingSample>();
        if (samplesPath is not null)
        {
            foreach (var s in setup.Resume(samplesPath, _logger))
            {
                done.TryAdd((s.PromptTokens, s.OutputTokens, s.BatchSize ?? 1, s.Trial ?? 0), s);
            }
        }

        var resumed = points.Count(done.ContainsKey);
        using var writer = samplesPath is null ? null : ProfilingSampleCsvWriter.OpenAppend(samplesPath);
        var samples = points.Where(done.ContainsKey).Select(pt => done[pt]).ToList();
        _logger.LogInformation("Profiling {Model} in batches of {Batches}: {Total} points ({Resumed} resumed from {Path})", model.Architecture.Name, string.Join(",", plan.BatchSizes), points.Count, resumed, samplesPath ?? "(no file)");
        if (resumed < points.Count)
        {
            var sw = Stopwatch.StartNew();
            for (var r = 0; r < plan.WarmupRuns; r++)
            {
                foreach (var b in plan.BatchSizes)
                {
                    foreach (var p in plan.PromptTokens)
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                        using var prompt = RandomPrompts(model, b, p, plan.Seed, -1 - r);
                        TimeBatch(decoder, prompt, plan.MaxOutputTokens);
                    }
                }
            }

            _logger.LogInformation("Warm-up: {Runs} run(s) per batch and prompt size in {Seconds:F1} s", plan.WarmupRuns, sw.Elapsed.TotalSeconds);
        }

        var completed = resumed;
        foreach (var (p, o, b, trial) in points)
        {
            if (done.ContainsKey((p, o, b, trial)))
            {
                continue;
            }

            cancellationToken.ThrowIfCancellationRequested();
            using var prompt = RandomPrompts(model, b, p, plan.Seed, trial);
            IdleBeforeQuery(cancellationToken);
            var seconds = TimeBatch(decoder, prompt, o);
            var sample = new ProfilingSample(p, o, seconds) { Trial = trial, Source = label, BatchSize = b };
            writer?.Write(sample);
            samples.Add(sample);
            completed++;
            _logger.LogDebug("p={Prompt} o={Output} b={Batch} trial={Trial}: {Seconds:F6} s", p, o, b, trial, seconds);
            progress?.Report(new ProfilingProgress(completed, points.Count, resumed, sample));
        }

        return new TorchProfile(model.Architecture, model.Precision, plan, samples, DescribeHardware(model.Device), DescribeSoftware(model.Precision, decoder.UsesCudaGraphs, decoder.UsesFusedKernels, decoder.AttentionForms, expertKernels: false) + ", static batches", Options.TimeProvider.GetUtcNow())
        {
            ResumedSamples = resumed,
            SamplesPath = samplesPath,
            Shard = model.Shape,
            IdleBeforeEachQuery = Options.IdleBeforeEachQuery,
        };
    }
}
