using LlmEff.Core;
using LlmEff.Core.Energy;
using LlmEff.Core.Hardware;

namespace LlmEff.Extensions.AI;

/// <summary>
/// Configures <see cref="EfficiencyMetricsChatClient"/>: the runtime profile(s) of the model behind the client and the
/// hardware the idealized cost and energy assume. The client copies and validates these values when it is built, so
/// changing the options afterwards does not affect it.
/// </summary>
public sealed class EfficiencyMetricsOptions
{
    /// <summary>
    /// The idealized runtime profile <c>t(p, o)</c> of the model behind the client (required), e.g.
    /// <c>PaperTable3.Get("OpenAI/davinci", RuntimeMetric.Idealized)</c> or <c>RuntimeModelJson.Load(path)</c>.
    /// </summary>
    public RuntimeModel? IdealizedRuntime { get; set; }

    /// <summary>An optional denoised runtime profile (black-box API, §3.5); when set, each response also gets a denoised runtime.</summary>
    public RuntimeModel? DenoisedRuntime { get; set; }

    /// <summary>
    /// The accelerator whose hourly price and board power give the idealized cost and energy. Default: the paper's
    /// 80-GB A100 (<see cref="Accelerators.A100_80GB"/>); set <see langword="null"/> to compute runtimes only.
    /// </summary>
    public Accelerator? Accelerator { get; set; } = Accelerators.A100_80GB;

    /// <summary>
    /// Accelerators <c>n</c> serving one request. Default <see langword="null"/>: the idealized profile's
    /// <see cref="RuntimeModelMetadata.AcceleratorCount"/> (Table 3's GPU counts); it must then be set there or here.
    /// </summary>
    public int? AcceleratorCount { get; set; }

    /// <summary>
    /// An optional measured energy model of the model behind the client, e.g. <c>EnergyModelJson.Load</c> of the
    /// <c>.energy.json</c> that <c>TorchProfiler.ProfileToFolderAsync</c> writes; when set, each response also gets
    /// <see cref="EfficiencyMetrics.MeasuredEnergyJoules"/>. Default <see langword="null"/>. Independent of <see cref="Accelerator"/>.
    /// </summary>
    public EnergyModel? Energy { get; set; }

    /// <summary>Running totals to add every request to; default <see langword="null"/>: the client keeps its own. Share one between clients to total a whole run.</summary>
    public EfficiencyMetricsAccumulator? Accumulator { get; set; }
}
