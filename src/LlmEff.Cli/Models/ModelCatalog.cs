using System.Reflection;
using LlmEff.Core;
using LlmEff.Core.Architecture;
using LlmEff.Core.Energy;
using LlmEff.Core.Hardware;
using LlmEff.Core.Metrics;
using LlmEff.Core.Reference;
using LlmEff.Core.Serialization;

namespace LlmEff.Cli.Models;

/// <summary>
/// The runtime models <c>--model</c> accepts: runtime-model JSON files, the paper's Table 3 rows, measured profiles
/// embedded from <c>Profiles/*.json</c>, <c>roofline:NAME[@ACCELERATOR]</c> estimates for the architecture catalog, and
/// <c>helm:NAME</c> / <c>helm-denoised:NAME</c> rows of HELM's efficiency tables (read at run time, see <see cref="HelmTables"/>).
/// </summary>
internal static class ModelCatalog
{
    /// <summary>Prefix selecting a roofline estimate, e.g. <c>roofline:meta-llama/Meta-Llama-3-8B@H100-SXM</c>.</summary>
    public const string RooflinePrefix = "roofline:";

    private const string ResourcePrefix = "LlmEff.Cli.Profiles.";

    private const string EnergySuffix = EnergyModelJson.CompanionSuffix;

    private static readonly Lazy<IReadOnlyList<ShippedProfile>> Measured = new(LoadMeasured);

    /// <summary>Profiles measured by this project and embedded in the tool (empty when none has been added yet).</summary>
    public static IReadOnlyList<ShippedProfile> MeasuredProfiles => Measured.Value;

    /// <summary>The Table 3 rows as profiles named by model, kind <c>table3-idealized</c> or <c>table3-denoised</c>.</summary>
    public static IReadOnlyList<ShippedProfile> Table3Profiles { get; } = PaperTable3.All
        .Select(r => new ShippedProfile(r.ModelName, "table3-" + r.Metric.ToString().ToLowerInvariant(), r.Model))
        .ToArray();

    /// <summary>Every name <c>--model</c> accepts besides file paths, for suggestions.</summary>
    public static IEnumerable<string> KnownNames =>
        Table3Profiles.Select(p => p.Name)
            .Concat(MeasuredProfiles.Select(p => p.Name))
            .Concat(ArchitectureCatalog.Names.Select(n => RooflinePrefix + n));

    /// <summary>
    /// Resolves one <c>--model</c> value to a display name and runtime model. Order: an existing file; a
    /// <c>roofline:</c> spec; a <c>helm:</c> or <c>helm-denoised:</c> spec (tables located by <paramref name="helm"/>,
    /// default <see cref="HelmTableOptions.Default"/>); a Table 3 name (with <paramref name="metric"/>); a measured profile's name.
    /// </summary>
    /// <exception cref="FileNotFoundException">The value names a <c>.json</c> file that does not exist.</exception>
    /// <exception cref="KeyNotFoundException">No such name; the message suggests the closest ones.</exception>
    public static (string Name, RuntimeModel Model) Resolve(string spec, RuntimeMetric metric, HelmTableOptions? helm = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(spec);
        if (File.Exists(spec))
        {
            return (Path.GetFileNameWithoutExtension(spec), RuntimeModelJson.Load(spec));
        }

        if (spec.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
        {
            throw new FileNotFoundException($"model file '{spec}' does not exist; pass an existing runtime-model JSON file (written by 'llmeff fit --output') or a name from 'llmeff models'.", spec);
        }

        if (spec.StartsWith(RooflinePrefix, StringComparison.OrdinalIgnoreCase))
        {
            return Roofline(spec[RooflinePrefix.Length..]);
        }

        if (HelmTables.IsHelmSpec(spec))
        {
            return HelmTables.Resolve(spec, helm ?? HelmTableOptions.Default);
        }

        var table3 = PaperTable3.All.FirstOrDefault(r => string.Equals(r.ModelName, spec.Trim(), StringComparison.OrdinalIgnoreCase) && r.Metric == metric);
        if (table3 is not null)
        {
            return (table3.ModelName, table3.Model);
        }

        var measured = MeasuredProfiles.FirstOrDefault(p => string.Equals(p.Name, spec.Trim(), StringComparison.OrdinalIgnoreCase));
        if (measured is not null)
        {
            return (measured.Name, measured.Model);
        }

        throw new KeyNotFoundException($"unknown model '{spec}'. {NameSuggestions.Describe(spec, KnownNames.Concat(HelmTables.KnownNames(helm ?? HelmTableOptions.Default)))} Run 'llmeff models' for the list, or pass a model JSON file.");
    }

    /// <summary>
    /// A roofline estimate for <c>NAME[@ACCELERATOR]</c> (default A100-80GB) on the fewest accelerators that hold the
    /// model (<see cref="AcceleratorPlanner.MinimumAccelerators"/>).
    /// </summary>
    public static (string Name, RuntimeModel Model) Roofline(string spec)
    {
        var at = spec.LastIndexOf('@');
        var name = (at < 0 ? spec : spec[..at]).Trim();
        var acceleratorName = at < 0 ? Accelerators.A100_80GB.Name : spec[(at + 1)..].Trim();
        if (name.Length == 0)
        {
            throw new ArgumentException($"'{RooflinePrefix}{spec}' names no architecture; use {RooflinePrefix}NAME[@ACCELERATOR] with a name from 'llmeff models'.");
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
            throw new ArgumentException($"'{RooflinePrefix}{spec}': {ex.Message}", ex);
        }

        var model = RooflineEstimator.Estimate(architecture, accelerator, plan.AcceleratorCount);
        return ($"{RooflinePrefix}{architecture.Name}@{accelerator.Name}", model);
    }

    /// <summary>
    /// The measured energy model beside a <c>--model</c> value: a model file's companion <c>&lt;file&gt;.energy.json</c>, or
    /// a measured profile's shipped one; null when there is none (Table 3 rows and roofline estimates never have one).
    /// </summary>
    public static EnergyModel? ResolveEnergy(string spec)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(spec);
        if (File.Exists(spec))
        {
            return EnergyModelJson.TryLoadCompanion(spec);
        }

        return MeasuredProfiles.FirstOrDefault(p => string.Equals(p.Name, spec.Trim(), StringComparison.OrdinalIgnoreCase))?.Energy;
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
