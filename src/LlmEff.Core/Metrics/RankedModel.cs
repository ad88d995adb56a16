namespace LlmEff.Core.Metrics;

/// <summary>One model's place under a <see cref="RankingObjective"/>.</summary>
/// <param name="Label">Model name.</param>
/// <param name="Capability">Its capability.</param>
/// <param name="EfficiencyMetric">Its efficiency metric.</param>
/// <param name="Score">The objective's score, higher is better.</param>
/// <param name="Rank">1 for the best; equal scores share a rank (1, 2, 2, 4).</param>
public readonly record struct RankedModel(string Label, double Capability, double EfficiencyMetric, double Score, int Rank);
