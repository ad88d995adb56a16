namespace LlmEff.Core.Catalog;

/// <summary>
/// HELM's fitted efficiency tables (stanford-crfm/helm <c>efficiency_data/</c>) as named models:
/// <c>helm:NAME</c> reads the idealized table, <c>helm-denoised:NAME</c> the denoised one. The tables are third-party
/// data this project does not ship; they are found at run time (<see cref="HelmTableOptions.TablesDirectory"/>,
/// <c>LLMEFF_HELM_TABLES</c>, or the nearest <c>shared/data/helm/</c>), read with <see cref="HelmEfficiencyTables"/>, and
/// given provenance and the paper's Table 1 GPU counts (<see cref="HelmTable1Accelerators"/>).
/// </summary>
public static class HelmTables
{
    /// <summary>Prefix of a model from HELM's idealized table, e.g. <c>helm:together/bloom</c>.</summary>
    public const string IdealizedPrefix = "helm:";

    /// <summary>Prefix of a model from HELM's denoised table, e.g. <c>helm-denoised:openai/davinci</c>.</summary>
    public const string DenoisedPrefix = "helm-denoised:";

    /// <summary>Environment variable naming the tables' folder when <see cref="HelmTableOptions.TablesDirectory"/> is not given.</summary>
    public const string EnvironmentVariable = "LLMEFF_HELM_TABLES";

    /// <summary>File name of HELM's idealized table.</summary>
    public const string IdealizedFile = "inference_idealized_runtimes.json";

    /// <summary>File name of HELM's denoised table.</summary>
    public const string DenoisedFile = "inference_denoised_runtimes.json";

    /// <summary>The three ways to provide the tables, for error messages and <c>llmeff models</c>.</summary>
    public const string HowToProvide =
        "pass --helm-tables DIR (HelmTableOptions.TablesDirectory in code: a folder holding " + IdealizedFile + " and " + DenoisedFile + " from stanford-crfm/helm's efficiency_data/), "
        + "set " + EnvironmentVariable + "=DIR, or run from a folder below one holding shared/data/helm/";

    /// <summary>True when <paramref name="spec"/> names a HELM-table model.</summary>
    /// <param name="spec">A model name, e.g. <c>helm:together/bloom</c>.</param>
    public static bool IsHelmSpec(string? spec)
        => spec is not null && (spec.StartsWith(IdealizedPrefix, StringComparison.OrdinalIgnoreCase) || spec.StartsWith(DenoisedPrefix, StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// The folder holding the tables: <see cref="HelmTableOptions.TablesDirectory"/> when given (never falling back, so
    /// a wrong path is reported), else <see cref="EnvironmentVariable"/>, else the nearest <c>shared/data/helm/</c> above
    /// the current directory or the application's base directory; null when none is found.
    /// </summary>
    /// <param name="options">Where to look.</param>
    public static string? Locate(HelmTableOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
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
    /// <param name="options">Where the tables are and how PE is read.</param>
    /// <param name="metric"><see cref="RuntimeMetric.Idealized"/> or <see cref="RuntimeMetric.Denoised"/>: which table.</param>
    /// <exception cref="FileNotFoundException">The tables are not found; the message names the three ways to provide them.</exception>
    /// <exception cref="InvalidDataException">A table is not in HELM's format; the message names the file.</exception>
    public static IReadOnlyDictionary<string, RuntimeModel> Load(HelmTableOptions options, RuntimeMetric metric)
    {
        ArgumentNullException.ThrowIfNull(options);
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

    /// <summary>Every model of both tables as profiles (kinds <c>helm-idealized</c>, <c>helm-denoised</c>), idealized first, by name.</summary>
    /// <param name="options">Where the tables are and how PE is read.</param>
    /// <exception cref="FileNotFoundException">The tables are not found; the message names the three ways to provide them.</exception>
    public static IReadOnlyList<ShippedProfile> Profiles(HelmTableOptions options)
        => [.. Load(options, RuntimeMetric.Idealized).OrderBy(m => m.Key, StringComparer.Ordinal).Select(m => new ShippedProfile(IdealizedPrefix + m.Key, "helm-idealized", m.Value)),
            .. Load(options, RuntimeMetric.Denoised).OrderBy(m => m.Key, StringComparer.Ordinal).Select(m => new ShippedProfile(DenoisedPrefix + m.Key, "helm-denoised", m.Value))];

    /// <summary>The HELM model names of both tables, prefixed as <see cref="ModelCatalog.Resolve"/> accepts them; empty when the tables are not found.</summary>
    /// <param name="options">Where the tables are.</param>
    public static IReadOnlyList<string> KnownNames(HelmTableOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (Locate(options) is null)
        {
            return [];
        }

        return Load(options, RuntimeMetric.Idealized).Keys.Order(StringComparer.Ordinal).Select(n => IdealizedPrefix + n)
            .Concat(Load(options, RuntimeMetric.Denoised).Keys.Order(StringComparer.Ordinal).Select(n => DenoisedPrefix + n))
            .ToArray();
    }

    /// <summary>Resolves <c>helm:NAME</c> or <c>helm-denoised:NAME</c> to its display name (the spec, as HELM spells the name) and model.</summary>
    /// <param name="spec">The prefixed name; case is ignored.</param>
    /// <param name="options">Where the tables are and how PE is read.</param>
    /// <exception cref="ArgumentException"><paramref name="spec"/> has no HELM prefix or names no model.</exception>
    /// <exception cref="FileNotFoundException">The tables are not found.</exception>
    /// <exception cref="KeyNotFoundException">The table has no such model; the message suggests the closest names.</exception>
    public static ResolvedModel Resolve(string spec, HelmTableOptions options)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(spec);
        ArgumentNullException.ThrowIfNull(options);
        if (!IsHelmSpec(spec))
        {
            throw new ArgumentException($"'{spec}' is not a HELM model name; use {IdealizedPrefix}NAME or {DenoisedPrefix}NAME.", nameof(spec));
        }

        var denoised = spec.StartsWith(DenoisedPrefix, StringComparison.OrdinalIgnoreCase);
        var prefix = denoised ? DenoisedPrefix : IdealizedPrefix;
        var name = spec[prefix.Length..].Trim();
        var metric = denoised ? RuntimeMetric.Denoised : RuntimeMetric.Idealized;
        var models = Load(options, metric);
        if (name.Length == 0)
        {
            throw new ArgumentException($"'{spec}' names no HELM model; use {prefix}NAME, e.g. {prefix}{models.Keys.Order(StringComparer.Ordinal).First()} (see 'llmeff models').", nameof(spec));
        }

        var key = models.Keys.FirstOrDefault(k => string.Equals(k, name, StringComparison.OrdinalIgnoreCase))
            ?? throw new KeyNotFoundException($"HELM's {metric.ToString().ToLowerInvariant()} table has no model '{name}'. {NameSuggestions.Describe(name, models.Keys.Select(k => prefix + k))} Run 'llmeff models' for the list.");
        return new ResolvedModel(prefix + key, models[key]);
    }

    private static bool HasTables(string directory)
        => File.Exists(Path.Combine(directory, IdealizedFile)) && File.Exists(Path.Combine(directory, DenoisedFile));

    private static string NotFoundMessage(HelmTableOptions options)
    {
        var tried = !string.IsNullOrWhiteSpace(options.TablesDirectory)
            ? $"the tables folder '{options.TablesDirectory}' does not hold {IdealizedFile} and {DenoisedFile}"
            : Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } env
                ? $"{EnvironmentVariable}='{env}' does not hold {IdealizedFile} and {DenoisedFile}"
                : "no shared/data/helm/ above the current or the application's directory";
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
