namespace LlmEff.Profiling.Torch;

/// <summary>
/// Which configuration queries a profiling run measures (paper §3.4): every prompt size × every output length, for
/// <see cref="Trials"/> trials, after <see cref="WarmupRuns"/> untimed generations per prompt size.
/// </summary>
public sealed record ProfilingPlan
{
    /// <summary>The paper's grid: P = {1, 256, 512, 1024, 1536}, o ∈ {1, 2, 4, ..., 64}, 3 trials, 2 warm-up runs.</summary>
    public static ProfilingPlan Paper { get; } = new();

    /// <summary>Prompt sizes in tokens. Default {1, 256, 512, 1024, 1536} (§3.4, for a 2048-token context).</summary>
    public IReadOnlyList<int> PromptTokens { get; init; } = [1, 256, 512, 1024, 1536];

    /// <summary>Output lengths in tokens. Default {1, 2, 4, 8, 16, 32, 64}: enough for the per-prompt lines of §3.2.</summary>
    public IReadOnlyList<int> OutputTokens { get; init; } = [1, 2, 4, 8, 16, 32, 64];

    /// <summary>Timed repetitions of every (p, o). Default 3; the fit combines them (minimum by default, §4.1).</summary>
    public int Trials { get; init; } = 3;

    /// <summary>
    /// Untimed generations per prompt size, at the largest output length, before timing starts. Default 2: the first
    /// run lets TorchScript profile and specialise, the second warms the allocator and GEMM heuristics.
    /// </summary>
    public int WarmupRuns { get; init; } = 2;

    /// <summary>
    /// Static batch sizes: every (p, o) is measured as a batch of <c>b</c> queries for each <c>b</c> here (samples carry
    /// <see cref="Core.ProfilingSample.BatchSize"/>), to fit a <see cref="Core.Batching.BatchedRuntimeModel"/>. Default {1},
    /// the paper's one query at a time.
    /// </summary>
    public IReadOnlyList<int> BatchSizes { get; init; } = [1];

    /// <summary>True when the plan measures batches other than 1.</summary>
    public bool IsBatched => BatchSizes.Count != 1 || BatchSizes[0] != 1;

    /// <summary>Largest batch size.</summary>
    public int MaxBatchSize => BatchSizes.Max();

    /// <summary>Seed of the random prompt token ids. Default 0.</summary>
    public long Seed { get; init; }

    /// <summary>
    /// Queries of an adaptive run, or null (default) to time the whole grid. When set, LlmEff.Core's
    /// <see cref="Core.Planning.AdaptiveProfilingPlanner"/> chooses the configurations one at a time among
    /// <see cref="PromptTokens"/> × <see cref="OutputTokens"/> (the candidates: give a dense list), each timed
    /// <see cref="Trials"/> times; with one trial a query, the planner's repeated anchors show the noise instead. The
    /// warm-up runs at the smallest, middle and largest candidate prompt size only, and the fit allows prompt sizes measured
    /// at one output length (<see cref="TorchProfile.Fit"/>). Batch size 1 on one device only (no batches, no parallel layout).
    /// </summary>
    public int? AdaptiveBudget { get; init; }

    /// <summary>
    /// An adaptive plan's 90th-percentile relative error to stop at (0.02 = 2 %), or null (default) to spend the whole
    /// <see cref="AdaptiveBudget"/>: before each new query the samples, trials included, are assessed, and once the noise of
    /// one query has been read from a repeated one and the estimated p90 is at or below this
    /// (<see cref="Core.Planning.PlanAssessment.MeetsTarget"/>), no further query is timed.
    /// </summary>
    public double? AdaptiveTargetP90 { get; init; }

    /// <summary>True when <see cref="AdaptiveBudget"/> is set.</summary>
    public bool IsAdaptive => AdaptiveBudget is not null;

    /// <summary>
    /// <paramref name="plan"/> (default <see cref="Paper"/>) for <paramref name="architecture"/>: unchanged for a dense
    /// model; for a mixture of experts with the prompt sizes added at which a prompt is expected to have reached half,
    /// nine tenths and 99 % of each layer's experts (<see cref="Core.Analysis.MemoryTraffic.RoutedTokensToTouch"/>). Prefill
    /// reads few experts below those sizes and nearly all above, so <c>PE(p)</c> bends there, and interpolating linearly
    /// between the paper's knots 1 and 256 missed it by 20–25 % at p = 69 for Qwen3-30B-A3B and Mixtral-8x7B on an H100.
    /// Sizes at or above the plan's largest prompt are not added.
    /// </summary>
    public static ProfilingPlan ForArchitecture(Core.Architecture.TransformerArchitecture architecture, ProfilingPlan? plan = null)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        plan ??= Paper;
        if (!architecture.IsMixtureOfExperts)
        {
            return plan;
        }

        var largest = plan.MaxPromptTokens;
        var bends = ExpertShares.Select(f => (int)Math.Ceiling(Core.Analysis.MemoryTraffic.RoutedTokensToTouch(architecture, f))).Where(t => t > 1 && t < largest);
        return plan with { PromptTokens = [.. plan.PromptTokens.Concat(bends).Distinct().Order()] };
    }

    private static readonly double[] ExpertShares = [0.5, 0.9, 0.99];

    /// <summary>A plan over user-chosen prompt sizes and output lengths with the default trials and warm-up.</summary>
    public static ProfilingPlan Create(IEnumerable<int> promptTokens, IEnumerable<int> outputTokens, int trials = 3) =>
        new ProfilingPlan { PromptTokens = promptTokens.ToArray(), OutputTokens = outputTokens.ToArray(), Trials = trials }.Validate();

    /// <summary>Largest prompt size.</summary>
    public int MaxPromptTokens => PromptTokens.Max();

    /// <summary>Largest output length.</summary>
    public int MaxOutputTokens => OutputTokens.Max();

    /// <summary>KV-cache positions the plan needs: <c>max p + max o - 1</c>.</summary>
    public int CapacityTokens => MaxPromptTokens + MaxOutputTokens - 1;

    /// <summary>Timed queries in the plan (an adaptive plan: its queries times the trials).</summary>
    public int TotalQueries => AdaptiveBudget is { } queries ? queries * Trials : PromptTokens.Count * OutputTokens.Count * Trials * BatchSizes.Count;

    /// <summary>Whether (p, o) is on the plan's grid: one of its points, or of an adaptive plan's candidates.</summary>
    internal bool IsCandidate(int promptTokens, int outputTokens) => PromptTokens.Contains(promptTokens) && OutputTokens.Contains(outputTokens);

    /// <summary>The prompt sizes the warm-up runs: every one of a grid; an adaptive plan's smallest, middle and largest candidate (its seed).</summary>
    internal IReadOnlyList<int> WarmupPromptTokens
    {
        get
        {
            if (!IsAdaptive)
            {
                return PromptTokens;
            }

            var sorted = PromptTokens.Order().ToArray();
            return new[] { sorted[0], sorted[sorted.Length / 2], sorted[^1] }.Distinct().ToArray();
        }
    }

    /// <summary>The timed points in measurement order: trial-major, so slow drift spreads over all points instead of one prompt size.</summary>
    public IEnumerable<(int PromptTokens, int OutputTokens, int Trial)> Points()
    {
        for (var t = 0; t < Trials; t++)
        {
            foreach (var p in PromptTokens)
            {
                foreach (var o in OutputTokens)
                {
                    yield return (p, o, t);
                }
            }
        }
    }

    /// <summary>The timed points with their batch size: trial-major, then batch size, prompt size and output length.</summary>
    public IEnumerable<(int PromptTokens, int OutputTokens, int BatchSize, int Trial)> BatchedPoints()
    {
        for (var t = 0; t < Trials; t++)
        {
            foreach (var b in BatchSizes)
            {
                foreach (var p in PromptTokens)
                {
                    foreach (var o in OutputTokens)
                    {
                        yield return (p, o, b, t);
                    }
                }
            }
        }
    }

    /// <summary>Checks the plan; throws naming the bad value and the fix otherwise.</summary>
    /// <returns>This instance.</returns>
    public ProfilingPlan Validate()
    {
        ArgumentNullException.ThrowIfNull(PromptTokens);
        ArgumentNullException.ThrowIfNull(OutputTokens);
        if (PromptTokens.Count == 0 || PromptTokens.Any(p => p < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(PromptTokens), string.Join(",", PromptTokens), "Give at least one prompt size, each at least 1 token.");
        }

        if (OutputTokens.Count < 2 || OutputTokens.Any(o => o < 1) || OutputTokens.Distinct().Count() < 2)
        {
            throw new ArgumentOutOfRangeException(nameof(OutputTokens), string.Join(",", OutputTokens), "Give at least two distinct output lengths (each at least 1), so every prompt size gets a line.");
        }

        if (PromptTokens.Distinct().Count() != PromptTokens.Count || OutputTokens.Distinct().Count() != OutputTokens.Count)
        {
            throw new ArgumentException($"Prompt sizes ({string.Join(",", PromptTokens)}) and output lengths ({string.Join(",", OutputTokens)}) must not repeat; use Trials for repetitions.", nameof(PromptTokens));
        }

        ArgumentNullException.ThrowIfNull(BatchSizes);
        if (BatchSizes.Count == 0 || BatchSizes.Any(b => b < 1) || BatchSizes.Distinct().Count() != BatchSizes.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(BatchSizes), string.Join(",", BatchSizes), "Give one or more distinct batch sizes, each at least 1 (e.g. 1,4,16).");
        }

        // p + o − 1 cache positions: computed wide, since the int sum of absurd sizes wraps to a negative capacity.
        if ((long)MaxPromptTokens + MaxOutputTokens - 1 > int.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(PromptTokens), $"{MaxPromptTokens} + {MaxOutputTokens}", "The largest prompt plus the longest output exceeds any KV cache (2^31 positions); profile prompt sizes and output lengths within the model's context.");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(Trials, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(WarmupRuns);
        if (AdaptiveBudget is { } queries)
        {
            if (queries < 6)
            {
                throw new ArgumentOutOfRangeException(nameof(AdaptiveBudget), queries, "AdaptiveBudget counts the queries of an adaptive run; give at least 6 (the planner's seed: smallest, middle and largest prompt size at the smallest and largest output length).");
            }

            if (IsBatched)
            {
                throw new ArgumentException($"An adaptive run times single queries; BatchSizes is {string.Join(",", BatchSizes)}. Leave it at {{1}}, or drop AdaptiveBudget to time the batches on the grid.", nameof(BatchSizes));
            }

            if (PromptTokens.Count < 2)
            {
                throw new ArgumentException($"An adaptive run chooses among candidate prompt sizes; give at least two (here {PromptTokens.Count}), more for it to choose from.", nameof(PromptTokens));
            }
        }

        if (AdaptiveTargetP90 is { } target)
        {
            if (AdaptiveBudget is null)
            {
                throw new ArgumentException("AdaptiveTargetP90 stops an adaptive run; set AdaptiveBudget too (a grid measures every point).", nameof(AdaptiveTargetP90));
            }

            if (!(target > 0 && target < 1))
            {
                throw new ArgumentOutOfRangeException(nameof(AdaptiveTargetP90), target, "Give the relative error to stop at as a fraction between 0 and 1 (0.02 for 2 %), or null to spend the whole budget.");
            }
        }

        return this;
    }
}
