using LlmEff.Core.Energy;

namespace LlmEff.Core.Catalog;

/// <summary>One built-in runtime profile: its name as <see cref="ModelCatalog.Resolve"/> accepts it, its kind, and the model with its provenance.</summary>
/// <param name="Name">The profile's name, e.g. <c>OpenAI/davinci</c> (a Table 3 row) or <c>llama3-8b-h100-bf16</c> (a measured profile).</param>
/// <param name="Kind">
/// Where it comes from: <c>table3-idealized</c> or <c>table3-denoised</c> (the paper's Table 3), <c>measured</c> or
/// <c>measured-emulated</c> (profiled by this project; emulated ones timed one shard and modelled the collectives), or
/// <c>helm-idealized</c> / <c>helm-denoised</c> (rows of HELM's efficiency tables, see <see cref="HelmTables.Profiles"/>).
/// </param>
/// <param name="Model">The runtime model; its <see cref="RuntimeModel.Metadata"/> holds hardware, software, measurement time and source.</param>
public sealed record ShippedProfile(string Name, string Kind, RuntimeModel Model)
{
    /// <summary>The provenance: model name, metric, hardware, accelerator count, software, source, measurement time.</summary>
    public RuntimeModelMetadata Metadata => Model.Metadata;

    /// <summary>Hardware the profile was measured or published on, when known.</summary>
    public string? Hardware => Model.Metadata.Hardware;

    /// <summary>Software stack and versions, when known.</summary>
    public string? Software => Model.Metadata.Software;

    /// <summary>When the underlying measurements were taken, when known.</summary>
    public DateTimeOffset? MeasuredUtc => Model.Metadata.MeasuredUtc;

    /// <summary>Where the numbers come from (a paper table, a profiler run).</summary>
    public string? Source => Model.Metadata.Source;

    /// <summary>The measured energy model shipped beside a measured profile (<c>Profiles/&lt;name&gt;.energy.json</c>), or null when it has none.</summary>
    public EnergyModel? Energy { get; init; }
}
