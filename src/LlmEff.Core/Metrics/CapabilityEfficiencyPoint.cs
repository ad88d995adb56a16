namespace LlmEff.Core.Metrics;

/// <summary>
/// One model on one scenario for the efficiency–capability analysis (§5.4): a capability (e.g. accuracy, higher is
/// better) and an efficiency metric (runtime, cost, energy, FLOPs; lower is better).
/// </summary>
/// <param name="Label">Model name (or any identifier), used to order ties deterministically.</param>
/// <param name="Capability">Capability, higher is better; finite.</param>
/// <param name="EfficiencyMetric">Efficiency metric, lower is better; finite.</param>
public readonly record struct CapabilityEfficiencyPoint(string Label, double Capability, double EfficiencyMetric);
