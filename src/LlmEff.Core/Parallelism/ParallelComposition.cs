using System.Globalization;
using LlmEff.Core.Batching;
using LlmEff.Core.Hardware;

namespace LlmEff.Core.Parallelism;

/// <summary>
/// Builds a whole model's <see cref="RuntimeModel"/> from profiles of its parts: one tensor-parallel rank's shard plus its
/// collectives (at batch 1 or for static batches), and pipeline stages plus the activation transfer at each stage
/// boundary. Pipeline stages run one after another for every forward pass (no pipelining overlap), as in the paper's
/// idealized runtime.
/// </summary>
public static class ParallelComposition
{
    /// <summary>
    /// Adds a rank's collectives to the runtime profiled for its shard alone: <c>PE'(p) = PE(p) + C(p)</c> and
    /// <c>g' = g + C(1)</c>, where <c>C(s)</c> is <see cref="TensorParallelCollectives.ForwardSeconds(int)"/>. <c>C</c> is linear in
    /// <c>s</c>, so <c>PE'</c> stays piecewise linear over the same knots. The result is marked emulated.
    /// </summary>
    public static RuntimeModel AddTensorParallelCommunication(RuntimeModel rankShard, TensorParallelCollectives collectives)
    {
        ArgumentNullException.ThrowIfNull(rankShard);
        ArgumentNullException.ThrowIfNull(collectives);
        collectives.Validate();
        return AddCommunication(rankShard, collectives, batchSize: 1);
    }

    /// <summary>
    /// The batched form of <see cref="AddTensorParallelCommunication(RuntimeModel, TensorParallelCollectives)"/>: at every
    /// profiled batch size <c>b</c>, <c>PE'_b(p) = PE_b(p) + C(p·b, b)</c> and <c>g'_b = g_b + C(b, b)</c>, where
    /// <c>C(s, b)</c> is <see cref="TensorParallelCollectives.ForwardSeconds(int, int)"/>: the activations of all <c>b</c> queries
    /// are all-reduced together and each query's logits row is gathered. The shard's fit errors are kept (they are
    /// the measured part); the result is marked emulated.
    /// </summary>
    /// <param name="rankShard">One rank's shard profiled in static batches (<see cref="BatchedRuntimeModel.Fit"/>).</param>
    /// <param name="collectives">The rank's collectives.</param>
    public static BatchedRuntimeModel AddTensorParallelCommunication(BatchedRuntimeModel rankShard, TensorParallelCollectives collectives)
    {
        ArgumentNullException.ThrowIfNull(rankShard);
        ArgumentNullException.ThrowIfNull(collectives);
        collectives.Validate();
        var models = rankShard.ProfiledBatchSizes
            .Select((b, i) => KeyValuePair.Create(b, AddCommunication(rankShard.BatchModels[i], collectives, b)))
            .ToArray();
        return BatchedRuntimeModel.Create(models, Emulated(rankShard.Metadata, collectives), rankShard.FitError, rankShard.LeaveOneBatchSizeOutError);
    }

    private static RuntimeModel AddCommunication(RuntimeModel rankShard, TensorParallelCollectives collectives, int batchSize)
    {
        if (rankShard.PromptEncodingMode != PromptEncodingMode.Interpolate)
        {
            throw new ArgumentException("Compose interpolated profiles; HELM-mode tables are not piecewise linear.", nameof(rankShard));
        }

        var knots = rankShard.PromptEncoding.Knots
            // A shard fit kept with KeepNonPhysicalFit may have negative knots; PE predicts them as 0, and so does the sum.
            .Select(k => new PiecewiseLinearKnot(k.X, Math.Max(0, k.Y) + collectives.ForwardSeconds(Math.Max(1, (int)k.X) * batchSize, batchSize)))
            .ToList();
        var pe = new PiecewiseLinearFunction(knots);
        var g = rankShard.PerOutputTokenSeconds + collectives.ForwardSeconds(batchSize, batchSize);
        // A shard fit kept non-physical (its Warnings say why) stays so with its collectives added; nothing else may be.
        RuntimeModelPhysics.ValidateParameters(pe, g, rankShard.PerOutputTokenContextSeconds, rankShard.OverheadSeconds, PromptEncodingMode.Interpolate, keptNonPhysical: rankShard.Warnings.Count > 0, contextKneeTokens: rankShard.ContextKneeTokens);
        return new RuntimeModel(pe, g, rankShard.OverheadSeconds, double.NaN, null, null, rankShard.Aggregation, Emulated(rankShard.Metadata, collectives), rankShard.PerOutputTokenContextSeconds, PromptEncodingMode.Interpolate, rankShard.Warnings, rankShard.ContextKneeTokens);
    }

    // The whole deployment: emulated, N times the shard's accelerators, and the collectives' parameters in the notes.
    private static RuntimeModelMetadata Emulated(RuntimeModelMetadata shard, TensorParallelCollectives collectives) => shard with
    {
        Emulated = true,
        AcceleratorCount = (shard.AcceleratorCount ?? 1) * collectives.TensorParallel,
        Notes = Join(shard.Notes, Describe(collectives)),
    };

    private static string Describe(TensorParallelCollectives collectives) => string.Create(
        CultureInfo.InvariantCulture,
        $"emulated {collectives.TensorParallel}-way tensor parallel from one rank's shard ({collectives.Layers} layers) plus modelled collectives over {collectives.Link.Name} (latency {collectives.Link.LatencySeconds * 1e6:G3} us, bus bandwidth {collectives.Link.BusBandwidthBytesPerSecond / 1e9:G4} GB/s; {collectives.Link.Source})");

    /// <summary>
    /// Chains pipeline stages: <c>PE(p) = Σ PE_s(p) + (S − 1)·T(p·h·b)</c> and <c>g = Σ g_s + (S − 1)·T(h·b)</c>, where <c>T</c> is
    /// one activation transfer over <paramref name="stageLink"/>. Knots are the union of the stages' knots; accelerators add up.
    /// </summary>
    /// <param name="stages">Each stage's model (with its tensor-parallel collectives already included), in order.</param>
    /// <param name="hiddenSize">Model width <c>h</c>: one token's activation is <c>h·b</c> bytes.</param>
    /// <param name="stageLink">Link between consecutive stages (e.g. InfiniBand between servers).</param>
    /// <param name="activationBytes">Bytes per activation element.</param>
    public static RuntimeModel ComposePipeline(IReadOnlyList<RuntimeModel> stages, int hiddenSize, Interconnect stageLink, double activationBytes = 2)
    {
        ArgumentNullException.ThrowIfNull(stages);
        ArgumentNullException.ThrowIfNull(stageLink);
        ArgumentOutOfRangeException.ThrowIfLessThan(hiddenSize, 1);
        if (stages.Count == 0)
        {
            throw new ArgumentException("Give at least one stage.", nameof(stages));
        }

        if (stages.Any(s => s.PromptEncodingMode != PromptEncodingMode.Interpolate))
        {
            throw new ArgumentException("Compose interpolated profiles; HELM-mode tables are not piecewise linear.", nameof(stages));
        }

        if (stages.Where(s => s.PerOutputTokenContextSeconds != 0).Select(s => s.ContextKneeTokens).Distinct().Count() > 1)
        {
            throw new ArgumentException("The stages' context terms have different knees (DecodeModel.ContextHinge), so their sum is not one hinge; refit the stages with one decode model (e.g. DecodeModel.ContextLinear).", nameof(stages));
        }

        var knee = stages.Where(s => s.PerOutputTokenContextSeconds != 0).Select(s => s.ContextKneeTokens).FirstOrDefault();
        var boundaries = stages.Count - 1;
        double Transfer(int tokens) => boundaries == 0 ? 0 : boundaries * CommunicationModel.TransferSeconds((double)tokens * hiddenSize * activationBytes, stageLink);
        var xs = stages.SelectMany(s => s.PromptEncoding.Knots.Select(k => k.X)).Distinct().Order().ToList();
        var knots = xs.Select(x => new PiecewiseLinearKnot(x, stages.Sum(s => Math.Max(0, s.PromptEncoding.Evaluate(x))) + Transfer(Math.Max(1, (int)x)))).ToList();
        var first = stages[0].Metadata;
        var accelerators = stages.Sum(s => s.Metadata.AcceleratorCount ?? 1);
        var metadata = first with
        {
            Emulated = stages.Any(s => s.Metadata.Emulated) || boundaries > 0,
            AcceleratorCount = accelerators,
            Notes = Join(first.Notes, string.Create(CultureInfo.InvariantCulture, $"{stages.Count} pipeline stages composed with stage-to-stage transfers over {stageLink.Name} ({stageLink.Source})")),
        };
        var pe = new PiecewiseLinearFunction(knots);
        var g = stages.Sum(s => s.PerOutputTokenSeconds) + Transfer(1);
        var g1 = stages.Sum(s => s.PerOutputTokenContextSeconds);
        var overhead = stages.Sum(s => s.OverheadSeconds);
        var warnings = stages.SelectMany(s => s.Warnings).Distinct().ToArray();
        if (warnings.Length == 0)
        {
            return RuntimeModel.Create(pe, g, g1, knee, overhead, metadata);
        }

        // A stage fit kept non-physical (its warnings say why) makes the chain so too, as a shard does with its
        // collectives added; its sum may then be what the stage alone would be refused for (a negative g). The kept
        // stage's record (its trials' aggregation) comes along, so the file of the chain loads as a kept fit's does.
        RuntimeModelPhysics.ValidateParameters(pe, g, g1, overhead, PromptEncodingMode.Interpolate, keptNonPhysical: true, contextKneeTokens: knee);
        return new RuntimeModel(pe, g, overhead, double.NaN, null, null, stages.First(s => s.Warnings.Count > 0).Aggregation, metadata, g1, PromptEncodingMode.Interpolate, warnings, knee);
    }

    private static string Join(string? a, string b) => string.IsNullOrEmpty(a) ? b : a + "; " + b;
}
