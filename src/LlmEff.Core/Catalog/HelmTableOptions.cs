namespace LlmEff.Core.Catalog;

/// <summary>
/// Where and how <c>helm:NAME</c> / <c>helm-denoised:NAME</c> models are read: HELM's fitted efficiency tables, located at
/// run time (they are third-party data this project does not ship; see <see cref="HelmTables"/>).
/// </summary>
/// <param name="TablesDirectory">
/// A folder holding <c>inference_idealized_runtimes.json</c> and <c>inference_denoised_runtimes.json</c> (the CLI's
/// <c>--helm-tables</c>); null to use <c>LLMEFF_HELM_TABLES</c> or the nearest <c>shared/data/helm/</c> above the current
/// or the application's directory.
/// </param>
/// <param name="Interpolate">
/// Read PE by LlmEff's interpolation between the table's keys instead of HELM's own next-key-scaled estimator
/// (default false, so the numbers equal what HELM reports; the CLI's <c>--helm-interpolate</c>).
/// </param>
public sealed record HelmTableOptions(string? TablesDirectory = null, bool Interpolate = false)
{
    /// <summary>Tables found the default way, read with HELM's estimator.</summary>
    public static HelmTableOptions Default { get; } = new();
}
