using LlmEff.Core;
using LlmEff.Core.Helm;

namespace LlmEff.Cli.Models;

/// <summary>
/// HELM's fitted efficiency tables (stanford-crfm/helm <c>efficiency_data/</c>) as <c>--model</c> values:
/// <c>helm:NAME</c> reads the idealized table, <c>helm-denoised:NAME</c> the denoised one. The tables are found at run
/// time (<c>--helm-tables</c>, <c>LLMEFF_HELM_TABLES</c>, or the nearest <c>shared/data/helm/</c>).
/// </summary>
internal static class HelmTables
{
    /// <summary>Prefix of a model from HELM's idealized table, e.g. <c>helm:together/bloom</c>.</summary>
    public const string IdealizedPrefix = "helm:";

    /// <summary>Prefix of a model from HELM's denoised table, e.g. <c>helm-denoised:openai/davinci</c>.</summary>
    public const string DenoisedPrefix = "helm-denoised:";

    /// <summary>Environment variable naming the tables' folder when <c>--helm-tables</c> is not given.</summary>
    public const string EnvironmentVariable = "LLMEFF_HELM_TABLES";

    /// <summary>File name of HELM's idealized table.</summary>
    public const string IdealizedFile = "inference_idealized_runtimes.json";

    /// <summary>File name of HELM's denoised table.</summary>
    public const string DenoisedFile = "inference_denoised_runtimes.json";

    /// <summary>The three ways to provide the tables, for error messages and <c>llmeff models</c>.</summary>
    public const string HowToProvide =
        "pass --helm-tables DIR (a folder holding " + IdealizedFile + " and " + DenoisedFile + " from stanford-crfm/helm's efficiency_data/), "
        + "set " + EnvironmentVariable + "=DIR, or run from a folder below one holding shared/data/helm/";

    /// <summary>True when <paramref name="spec"/> names a HELM-table model.</summary>
    public static bool IsHelmSpec(string spec)
        => spec.StartsWith(IdealizedPrefix, StringComparison.OrdinalIgnoreCase) || spec.StartsWith(DenoisedPrefix, StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// The folder holding the tables: <see cref="HelmTableOptions.TablesDirectory"/> when given (never falling back, so
    /// a wrong path is reported), else <see cref="EnvironmentVariable"/>, else the nearest <c>shared/data/helm/</c> above
    /// the current directory or the tool's base directory; null when none is found.
    /// </summary>
    public static string? Locate(HelmTableOptions options)
    {
        if (!string.IsNullOrWhiteSpace(options.TablesDirectory))
        {
            return HasTables(options.TablesDirectory) ? Path.GetFullPath(options.TablesDirectory) : null;
        }

        var env = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(env))
        {
            return HasTables(env) ? Path.GetFullPath(env) : null;
        }

        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "shared", "data", "helm");
                if (HasTables(candidate))
                {
                    return candidate;
                }
            }
        }

        return null;
    }

    /// <summary>Every model of one table with provenance metadata, keyed by HELM's name (case-insensitive).</summary>
    /// <exception cref="FileNotFoundException">The tables are not found; the message names the three ways to provide them.</exception>
    public static IReadOnlyDictionary<string, RuntimeModel> Load(HelmTableOptions options, RuntimeMetric metric)
    {
        var directory = Locate(options) ?? throw new FileNotFoundException(NotFoundMessage(options));
        var file = Path.Combine(directory, metric == RuntimeMetric.Denoised ? DenoisedFile : IdealizedFile);
        var mode = options.Interpolate ? PromptEncodingMode.Interpolate : PromptEncodingMode.HelmNextKeyScaled;
        var models = new Dictionary<string, RuntimeModel>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, model) in HelmEfficiencyTables.ReadFile(file, mode, metric))
        {
            models[name] = model.WithMetadata(Metadata(name, metric, file, options.Interpolate));
        }

        return models;
    }

    /// <summary>The HELM model names of both tables, prefixed as <c>--model</c> accepts them; empty when the tables are not found.</summary>
    public static IReadOnlyList<string> KnownNames(HelmTableOptions options)
    {
        if (Locate(options) is null)
        {
            return [];
        }

        return Load(options, RuntimeMetric.Idealized).Keys.Order(StringComparer.Ordinal).Select(n => IdealizedPrefix + n)
            .Concat(Load(options, RuntimeMetric.Denoised).Keys.Order(StringComparer.Ordinal).Select(n => DenoisedPrefix + n))
            .ToArray();
    }

    /// <summary>Resolves <c>helm:NAME</c> or <c>helm-denoised:NAME</c> to its display name (the spec, as HELM spells the name) and model.</summary>
    /// <exception cref="FileNotFoundException">The tables are not found.</exception>
    /// <exception cref="KeyNotFoundException">The table has no such model; the message suggests the closest names.</exception>
    public static (string Name, RuntimeModel Model) Resolve(string spec, HelmTableOptions options)
    {
        var denoised = spec.StartsWith(DenoisedPrefix, StringComparison.OrdinalIgnoreCase);
        var prefix = denoised ? DenoisedPrefix : IdealizedPrefix;
        var name = spec[prefix.Length..].Trim();
        var metric = denoised ? RuntimeMetric.Denoised : RuntimeMetric.Idealized;
        var models = Load(options, metric);
        if (name.Length == 0)
        {
            throw new ArgumentException($"'{spec}' names no HELM model; use {prefix}NAME, e.g. {prefix}{models.Keys.Order(StringComparer.Ordinal).First()} (see 'llmeff models').");
        }

        var key = models.Keys.FirstOrDefault(k => string.Equals(k, name, StringComparison.OrdinalIgnoreCase))
            ?? throw new KeyNotFoundException($"HELM's {metric.ToString().ToLowerInvariant()} table has no model '{name}'. {NameSuggestions.Describe(name, models.Keys.Select(k => prefix + k))} Run 'llmeff models' for the list.");
        return (prefix + key, models[key]);
    }

    private static bool HasTables(string directory)
        => File.Exists(Path.Combine(directory, IdealizedFile)) && File.Exists(Path.Combine(directory, DenoisedFile));

    private static string NotFoundMessage(HelmTableOptions options)
    {
        var tried = !string.IsNullOrWhiteSpace(options.TablesDirectory)
            ? $"--helm-tables '{options.TablesDirectory}' does not hold {IdealizedFile} and {DenoisedFile}"
            : Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } env
                ? $"{EnvironmentVariable}='{env}' does not hold {IdealizedFile} and {DenoisedFile}"
                : "no shared/data/helm/ above the current or the tool's directory";
        return $"HELM efficiency tables not found ({tried}); {HowToProvide}.";
    }

    // HELM's idealized tables come from Megatron on A100 80GB (paper §3); the denoised ones from each provider's API.
    private static RuntimeModelMetadata Metadata(string name, RuntimeMetric metric, string file, bool interpolate)
    {
        var idealized = metric == RuntimeMetric.Idealized;
        return new RuntimeModelMetadata
        {
            ModelName = name,
            Metric = metric,
            Hardware = idealized ? "NVIDIA A100 80GB (HELM idealized table)" : $"{name.Split('/')[0]} API (HELM denoised table, unknown hardware)",
            AcceleratorCount = HelmTable1Accelerators.For(name),
            Software = idealized ? "Megatron-LM" : "black-box API",
            Source = $"HELM efficiency_data/{Path.GetFileName(file)} (stanford-crfm/helm)",
            Notes = (interpolate
                ? "PE interpolated between HELM's prompt-size keys (--helm-interpolate)"
                : "PE by HELM's own estimator (next key scaled by p/key), so runtimes equal HELM's") + $"; read from {file}",
        };
    }
}
