using System.Globalization;
using System.Reflection;
using LlmEff.Core.Architecture;
using LlmEff.Core.Energy;
using LlmEff.Core.Hardware;
using LlmEff.Core.Metrics;
using LlmEff.Core.Reference;
using LlmEff.Core.Serialization;

namespace LlmEff.Core.Catalog;

/// <summary>
/// Every runtime model LlmEff knows by name, in the grammar the <c>llmeff</c> tool's <c>--model</c> accepts: the paper's
/// Table 3 rows, the measured profiles this library embeds (<c>Catalog/Profiles/*.json</c>),
/// <c>roofline:NAME[@ACCELERATOR]</c> estimates for the <see cref="ArchitectureCatalog"/>, <c>helm:NAME</c> /
/// <c>helm-denoised:NAME</c> rows of HELM's efficiency tables (read at run time, see <see cref="HelmTables"/>), and
/// runtime-model JSON files. Unknown names fail with the closest known names in the message.
/// </summary>
/// <example>
/// <code>
/// foreach (var p in ModelCatalog.Profiles) Console.WriteLine($"{p.Name} ({p.Kind}) on {p.Hardware}");
/// RuntimeModel llama = ModelCatalog.GetProfile("llama3-8b-h100-bf16");
/// ResolvedModel bound = ModelCatalog.Resolve("roofline:meta-llama/Meta-Llama-3-8B@H100-SXM");
/// </code>
/// </example>
public static class ModelCatalog
{
    /// <summary>Prefix selecting a roofline estimate, e.g. <c>roofline:meta-llama/Meta-Llama-3-8B@H100-SXM</c>.</summary>
    public const string RooflinePrefix = "roofline:";

    /// <summary>The accelerator a roofline estimate assumes when its name has no <c>@ACCELERATOR</c>: the paper's GPU.</summary>
    public static Accelerator DefaultRooflineAccelerator => Accelerators.A100_80GB;

    private const string ResourcePrefix = "LlmEff.Core.Catalog.Profiles.";

    private const string EnergySuffix = EnergyModelJson.CompanionSuffix;

    private static readonly Lazy<IReadOnlyList<ShippedProfile>> Measured = new(LoadMeasured);

    /// <summary>The profiles measured by this project and embedded in the library, by name.</summary>
    public static IReadOnlyList<ShippedProfile> MeasuredProfiles => Measured.Value;

    /// <summary>The Table 3 rows as profiles named by model, kind <c>table3-idealized</c> or <c>table3-denoised</c>.</summary>
    public static IReadOnlyList<ShippedProfile> Table3Profiles { get; } = PaperTable3.All
        .Select(r => new ShippedProfile(r.ModelName, "table3-" + r.Metric.ToString().ToLowerInvariant(), r.Model))
        .ToArray();

    /// <summary>
    /// Every built-in profile with its provenance: the Table 3 rows, then the measured profiles. HELM's tables are not
    /// built in (they are read at run time); list them with <see cref="HelmTables.Profiles"/>.
    /// </summary>
    public static IReadOnlyList<ShippedProfile> Profiles => [.. Table3Profiles, .. MeasuredProfiles];

    /// <summary>Every name <see cref="Resolve"/> accepts besides file paths and HELM rows: Table 3 names, measured profiles, <c>roofline:</c> architectures.</summary>
    public static IEnumerable<string> KnownNames =>
        Table3Profiles.Select(p => p.Name)
            .Concat(MeasuredProfiles.Select(p => p.Name))
            .Concat(ArchitectureCatalog.Names.Select(n => RooflinePrefix + n));

    /// <summary>
    /// A built-in profile by name, ignoring case: a Table 3 row (of <paramref name="metric"/>) or a measured profile.
    /// </summary>
    /// <param name="name">The profile's name, e.g. <c>OpenAI/davinci</c> or <c>gptj-6b-h100-bf16</c> (see <see cref="Profiles"/>).</param>
    /// <param name="metric">Which Table 3 row a Table 3 name selects; measured profiles are idealized and ignore it.</param>
    /// <returns>The runtime model with its provenance metadata.</returns>
    /// <exception cref="KeyNotFoundException">No built-in profile has that name; the message names the closest ones.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="name"/> is a Table 3 name and <paramref name="metric"/> is not one of its rows (Idealized, Denoised).</exception>
    public static RuntimeModel GetProfile(string name, RuntimeMetric metric = RuntimeMetric.Idealized)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return FindBuiltIn(name, metric)?.Model
            ?? throw new KeyNotFoundException($"no built-in profile is named '{name}'. {NameSuggestions.Describe(name, Profiles.Select(p => p.Name))} ModelCatalog.Profiles lists them; use ModelCatalog.Resolve for roofline:, helm: names and files.");
    }

    /// <summary>
    /// Resolves one model name to a display name and runtime model. Order: an existing file (runtime-model JSON); a
    /// <c>roofline:NAME[@ACCELERATOR]</c> estimate; a <c>helm:</c> or <c>helm-denoised:</c> row (tables located by
    /// <paramref name="helm"/>); a Table 3 name (row of <paramref name="metric"/>); a measured profile's name.
    /// </summary>
    /// <param name="spec">The name or path, e.g. <c>OpenAI/davinci</c>, <c>llama3-8b-h100-bf16</c>, <c>roofline:EleutherAI/GPT-J@H100-SXM</c>, <c>helm:together/bloom</c> or <c>model.json</c>.</param>
    /// <param name="metric">Which Table 3 row a Table 3 name selects.</param>
    /// <param name="helm">Where HELM's tables are; default <see cref="HelmTableOptions.Default"/>.</param>
    /// <exception cref="ArgumentException"><paramref name="spec"/> is empty, or a <c>roofline:</c> or <c>helm:</c> name names nothing, or the architecture fits no count of that accelerator.</exception>
    /// <exception cref="FileNotFoundException">The value names a <c>.json</c> file that does not exist, or HELM's tables are not found.</exception>
    /// <exception cref="InvalidDataException">A file or table is not in the expected format; the message names it.</exception>
    /// <exception cref="KeyNotFoundException">No such name; the message names the closest ones.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="spec"/> is a Table 3 name and <paramref name="metric"/> is not one of its rows (Idealized, Denoised).</exception>
    public static ResolvedModel Resolve(string spec, RuntimeMetric metric = RuntimeMetric.Idealized, HelmTableOptions? helm = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(spec);
        if (File.Exists(spec))
        {
            return new ResolvedModel(Path.GetFileNameWithoutExtension(spec), RuntimeModelJson.Load(spec));
        }

        if (spec.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
        {
            throw new FileNotFoundException($"model file '{spec}' does not exist; pass an existing runtime-model JSON file (written by 'llmeff fit --output' or RuntimeModelJson.Save) or a name from 'llmeff models'.", spec);
        }

        if (spec.StartsWith(RooflinePrefix, StringComparison.OrdinalIgnoreCase))
        {
            return Roofline(spec[RooflinePrefix.Length..]);
        }

        if (HelmTables.IsHelmSpec(spec))
        {
            return HelmTables.Resolve(spec, helm ?? HelmTableOptions.Default);
        }

        var builtIn = FindBuiltIn(spec, metric);
        if (builtIn is not null)
        {
            return new ResolvedModel(builtIn.Name, builtIn.Model);
        }

        throw new KeyNotFoundException($"unknown model '{spec}'. {NameSuggestions.Describe(spec, KnownNames.Concat(HelmTables.KnownNames(helm ?? HelmTableOptions.Default)))} Run 'llmeff models' for the list, or pass a model JSON file.");
    }

    /// <summary>
    /// A roofline estimate for <c>NAME[@ACCELERATOR]</c> (default <see cref="DefaultRooflineAccelerator"/>) on the fewest
    /// accelerators that hold the model (<see cref="AcceleratorPlanner.MinimumAccelerators"/>).
    /// </summary>
    /// <param name="spec">The part after <c>roofline:</c>, e.g. <c>meta-llama/Meta-Llama-3-8B@H100-SXM</c>.</param>
    /// <exception cref="ArgumentException">No architecture is named, or it fits no count of the accelerator.</exception>
    /// <exception cref="KeyNotFoundException">Unknown architecture or accelerator; the message names the closest ones.</exception>
    public static ResolvedModel Roofline(string spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var at = spec.LastIndexOf('@');
        var name = (at < 0 ? spec : spec[..at]).Trim();
        var acceleratorName = at < 0 ? DefaultRooflineAccelerator.Name : spec[(at + 1)..].Trim();
        if (name.Length == 0)
        {
            throw new ArgumentException($"'{RooflinePrefix}{spec}' names no architecture; use {RooflinePrefix}NAME[@ACCELERATOR] with a name from 'llmeff models' (ArchitectureCatalog.Names).", nameof(spec));
        }

        if (!ArchitectureCatalog.TryGet(name, out var architecture))
        {
            throw new KeyNotFoundException($"unknown architecture '{name}' in '{RooflinePrefix}{spec}'. {NameSuggestions.Describe(name, ArchitectureCatalog.Names)}");
        }

        var accelerator = Accelerators.All.FirstOrDefault(a => string.Equals(a.Name, acceleratorName, StringComparison.OrdinalIgnoreCase))
            ?? throw new KeyNotFoundException($"unknown accelerator '{acceleratorName}' in '{RooflinePrefix}{spec}'. {NameSuggestions.Describe(acceleratorName, Accelerators.All.Select(a => a.Name))}");
        ServingPlan plan;
        try
        {
            plan = AcceleratorPlanner.MinimumAccelerators(architecture, accelerator);
        }
        catch (InvalidOperationException ex)
        {
            throw new ArgumentException($"'{RooflinePrefix}{spec}': {ex.Message}", nameof(spec), ex);
        }

        // One query at a time goes through the pipeline stages one after another (the paper's idealized runtime): its time is
        // a tensor-parallel group's, while cost and energy count every accelerator of the plan.
        var model = RooflineEstimator.Estimate(architecture, accelerator, plan.TensorParallelDegree);
        if (plan.PipelineStages > 1)
        {
            model = model.WithMetadata(model.Metadata with
            {
                AcceleratorCount = plan.AcceleratorCount,
                Notes = string.Create(CultureInfo.InvariantCulture, $"{model.Metadata.Notes}; {plan.PipelineStages} pipeline stages of {plan.TensorParallelDegree} accelerators, run one after another, so the time is one stage group's over the whole model"),
            });
        }

        return new ResolvedModel($"{RooflinePrefix}{architecture.Name}@{accelerator.Name}", model);
    }

    /// <summary>
    /// The measured energy model that goes with a name <see cref="Resolve"/> accepts: a runtime-model file's companion
    /// <c>&lt;file&gt;.energy.json</c>, or a measured profile's shipped one; null when there is none (Table 3 rows, HELM rows
    /// and roofline estimates never have one).
    /// </summary>
    /// <param name="name">A runtime-model file path or a measured profile's name, e.g. <c>gptj-h100-bf16-energy</c>.</param>
    /// <exception cref="InvalidDataException">The companion file is not an energy model of this library's schema.</exception>
    public static EnergyModel? ResolveEnergy(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return File.Exists(name) ? EnergyModelJson.TryLoadCompanion(name) : FindMeasured(name)?.Energy;
    }

    /// <summary>The measured profile of that name (ignoring case), or null; Table 3 rows and roofline estimates are not measured.</summary>
    /// <param name="name">A measured profile's name, e.g. <c>gptj-h100-bf16-energy</c>.</param>
    public static ShippedProfile? FindMeasured(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return MeasuredProfiles.FirstOrDefault(p => string.Equals(p.Name, name.Trim(), StringComparison.OrdinalIgnoreCase));
    }

    private static ShippedProfile? FindBuiltIn(string name, RuntimeMetric metric)
    {
        var rows = Table3Profiles.Where(p => string.Equals(p.Name, name.Trim(), StringComparison.OrdinalIgnoreCase)).ToArray();
        var row = rows.FirstOrDefault(p => p.Model.Metadata.Metric == metric);
        if (row is null && rows.Length > 0)
        {
            // The name is right but Table 3 has no row of that metric; blaming the name (KeyNotFoundException) misleads.
            var served = string.Join(", ", rows.Select(p => $"RuntimeMetric.{p.Model.Metadata.Metric}"));
            throw new ArgumentOutOfRangeException(nameof(metric), metric, $"Table 3 has no {metric} row for '{rows[0].Name}'; pass one of {served}.");
        }

        return row ?? FindMeasured(name);
    }

    private static IReadOnlyList<ShippedProfile> LoadMeasured()
    {
        var assembly = typeof(ModelCatalog).Assembly;
        var resources = assembly.GetManifestResourceNames().Where(n => n.StartsWith(ResourcePrefix, StringComparison.Ordinal)).ToHashSet(StringComparer.Ordinal);
        return resources
            .Where(n => n.EndsWith(".json", StringComparison.Ordinal) && !n.EndsWith(EnergySuffix, StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .Select(n => Load(assembly, n, resources))
            .ToArray();
    }

    // Named by file (e.g. gptj-6b-h100-bf16), which says model, hardware and precision; the metadata names the model.
    private static ShippedProfile Load(Assembly assembly, string resource, HashSet<string> resources)
    {
        var name = resource[ResourcePrefix.Length..^".json".Length];
        var model = RuntimeModel.FromJson(ReadResource(assembly, resource));
        var energyResource = ResourcePrefix + name + EnergySuffix;
        var energy = resources.Contains(energyResource) ? EnergyModel.FromJson(ReadResource(assembly, energyResource)) : null;
        return new ShippedProfile(name, model.Metadata.Emulated ? "measured-emulated" : "measured", model) { Energy = energy };
    }

    private static string ReadResource(Assembly assembly, string resource)
    {
        using var stream = assembly.GetManifestResourceStream(resource)!;
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
