namespace LlmEff.Core.Catalog;

/// <summary>A model name resolved by <see cref="ModelCatalog.Resolve"/>: the name to display and its runtime model.</summary>
/// <param name="Name">The canonical name, e.g. <c>OpenAI/davinci</c>, <c>helm:together/bloom</c> or <c>roofline:NAME@H100-SXM</c>; a file's name without extension for a model file.</param>
/// <param name="Model">The runtime model with its provenance in <see cref="RuntimeModel.Metadata"/>.</param>
public sealed record ResolvedModel(string Name, RuntimeModel Model);
