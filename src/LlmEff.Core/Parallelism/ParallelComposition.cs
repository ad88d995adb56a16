using System.Globalization;
using LlmEff.Core.Hardware;

namespace LlmEff.Core.Parallelism;

/// <summary>
/// Builds a whole model's <see cref="RuntimeModel"/> from profiles of its parts: one tensor-parallel rank's shard plus its
/// collectives, and pipeline stages plus the activation transfer at each stage boundary. Batch 1, so stages run one
/// after another for every forward pass (no pipelining overlap), as in the paper's idealized runtime.
/// </summary>
public static class ParallelComposition
{
    /// <summary>
    /// Adds a rank's collectives to the runtime profiled for its shard alone: <c>PE'(p) = PE(p) + C(p)</c> and
    /// <c>g' = g + C(1)</c>, where <c>C(s)</c> is <see cref="TensorParallelCollectives.ForwardSeconds"/>. <c>C</c> is linear in
    /// <c>s</c>, so <c>PE'</c> stays piecewise linear over the same knots. The result is marked emulated.
    /// </summary>
    public static RuntimeModel AddTensorParallelCommunication(RuntimeModel rankShard, TensorParallelCollectives collectives)
    {
        ArgumentNullException.ThrowIfNull(rankShard);
        ArgumentNullException.ThrowIfNull(collectives);
        collectives.Validate();
        if (rankShard.PromptEncodingMode != PromptEncodingMode.Interpolate)
        {
            throw new ArgumentException("Compose interpolated profiles; HELM-mode tables are not piecewise linear.", nameof(rankShard));
        }

        var knots = rankShard.PromptEncoding.Knots
            // A shard fit kept with KeepNonPhysicalFit may have negative knots; PE predicts them as 0, and so does the sum.
            .Select(k => new PiecewiseLinearKnot(k.X, Math.Max(0, k.Y) + collectives.ForwardSeconds(Math.Max(1, (int)k.X))))
            .ToList();
        var m = rankShard.Metadata;
        var metadata = m with
        {
            Emulated = true,
            AcceleratorCount = (m.AcceleratorCount ?? 1) * collectives.TensorParallel,
            Notes = Join(m.Notes, string.Create(CultureInfo.InvariantCulture, $"emulated {collectives.TensorParallel}-way tensor parallel from one rank's shard ({collectives.Layers} layers) plus modelled collectives over {collectives.Link.Name} (latency {collectives.Link.LatencySeconds * 1e6:G3} us, bus bandwidth {collectives.Link.BusBandwidthBytesPerSecond / 1e9:G4} GB/s; {collectives.Link.Source})")),
        };
        return RuntimeModel.Create(
            new PiecewiseLinearFunction(knots),
            rankShard.PerOutputTokenSeconds + collectives.ForwardSeconds(1),
            rankShard.PerOutputTokenContextSeconds,
            rankShard.OverheadSeconds,
            PromptEncodingMode.Interpolate,
            metadata).WithWarnings(rankShard.Warnings);
    }

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
        return RuntimeModel.Create(
            new PiecewiseLinearFunction(knots),
            stages.Sum(s => s.PerOutputTokenSeconds) + Transfer(1),
            stages.Sum(s => s.PerOutputTokenContextSeconds),
            stages.Sum(s => s.OverheadSeconds),
            PromptEncodingMode.Interpolate,
            metadata).WithWarnings(stages.SelectMany(s => s.Warnings).Distinct().ToArray());
    }

    private static string Join(string? a, string b) => string.IsNullOrEmpty(a) ? b : a + "; " + b;
}
