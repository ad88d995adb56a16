namespace LlmEff.Core.Reference;

/// <summary>
/// The fitted parameters of the paper's Table 3 (Narayanan et al., 2023): prompt-encoding time at
/// p = 512 / 1024 / 1536 and per-output-token time g, idealized on Megatron with 80-GB A100s (GPU counts
/// of Table 1) and denoised through each provider's API. Prompt sizes below 512 or above 1536 are
/// extrapolated from the nearest segment (and flagged so by <see cref="RuntimeModel.IsExtrapolated(int)"/>).
/// </summary>
public static class PaperTable3
{
    private const string Source = "Narayanan et al. 2023, arXiv 2305.02440, Table 3";

    /// <summary>The prompt sizes Table 3 reports PE for.</summary>
    public static IReadOnlyList<int> PromptTokens { get; } = [512, 1024, 1536];

    /// <summary>Every Table 3 row: four models, idealized and denoised.</summary>
    public static IReadOnlyList<ReferenceRuntimeModel> All { get; } =
    [
        Row("OpenAI/davinci", RuntimeMetric.Idealized, 8, 0.178, 0.323, 0.476, 0.081),
        Row("OpenAI/davinci", RuntimeMetric.Denoised, null, 0.045, 0.033, 0.142, 0.030),
        Row("AI21/J1-Grande v1", RuntimeMetric.Idealized, 1, 0.097, 0.190, 0.298, 0.038),
        Row("AI21/J1-Grande v1", RuntimeMetric.Denoised, null, 0.172, 0.351, 0.519, 0.021),
        Row("AI21/J1-Jumbo v1", RuntimeMetric.Idealized, 8, 0.164, 0.310, 0.465, 0.064),
        Row("AI21/J1-Jumbo v1", RuntimeMetric.Denoised, null, 0.268, 0.463, 0.655, 0.042),
        Row("Anthropic/v4-s3", RuntimeMetric.Idealized, 4, 0.108, 0.189, 0.279, 0.054),
        Row("Anthropic/v4-s3", RuntimeMetric.Denoised, null, 0.193, 0.191, 0.380, 0.057),
    ];

    /// <summary>The idealized (Megatron, A100) rows.</summary>
    public static IReadOnlyList<ReferenceRuntimeModel> Idealized { get; } = All.Where(r => r.Metric == RuntimeMetric.Idealized).ToArray();

    /// <summary>The denoised (black-box API) rows.</summary>
    public static IReadOnlyList<ReferenceRuntimeModel> Denoised { get; } = All.Where(r => r.Metric == RuntimeMetric.Denoised).ToArray();

    /// <summary>Looks up one row by model name (case-insensitive) and metric.</summary>
    /// <exception cref="KeyNotFoundException">No such row; the message lists the model names.</exception>
    public static RuntimeModel Get(string modelName, RuntimeMetric metric)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(modelName);
        return All.FirstOrDefault(r => string.Equals(r.ModelName, modelName, StringComparison.OrdinalIgnoreCase) && r.Metric == metric)?.Model
            ?? throw new KeyNotFoundException($"Table 3 has no {metric} row for '{modelName}'; it has {string.Join(", ", All.Select(r => r.ModelName).Distinct())}.");
    }

    private static ReferenceRuntimeModel Row(string name, RuntimeMetric metric, int? gpus, double pe512, double pe1024, double pe1536, double g)
    {
        var idealized = metric == RuntimeMetric.Idealized;
        var model = RuntimeModel.Create(
            [(512, pe512), (1024, pe1024), (1536, pe1536)],
            g,
            metadata: new RuntimeModelMetadata
            {
                ModelName = name,
                Metric = metric,
                Hardware = idealized ? "NVIDIA A100 80GB" : $"{name.Split('/')[0]} API (unknown hardware)",
                AcceleratorCount = gpus,
                Software = idealized ? "Megatron-LM" : "black-box API",
                Source = Source,
                MeasuredUtc = new DateTimeOffset(2022, 10, 1, 0, 0, 0, TimeSpan.Zero),
            });
        return new ReferenceRuntimeModel(name, metric, model);
    }
}
