namespace LlmEff.Core.Reference;

/// <summary>A ready-made runtime model with the name and metric it was published under.</summary>
/// <param name="ModelName">Model name as the source writes it, e.g. <c>OpenAI/davinci</c>.</param>
/// <param name="Metric">Idealized or denoised.</param>
/// <param name="Model">The runtime model.</param>
public sealed record ReferenceRuntimeModel(string ModelName, RuntimeMetric Metric, RuntimeModel Model);
