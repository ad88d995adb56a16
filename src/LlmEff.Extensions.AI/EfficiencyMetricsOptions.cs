using LlmEff.Core;
using LlmEff.Core.Energy;
using LlmEff.Core.Hardware;
using Microsoft.Extensions.Logging;

namespace LlmEff.Extensions.AI;

/// <summary>
/// Configures <see cref="EfficiencyMetricsChatClient"/>: the runtime profile(s) of the model behind the client and the
/// hardware the idealized cost and energy assume. The client copies and validates these values when it is built, so
/// changing the options afterwards does not affect it.
/// </summary>
public sealed class EfficiencyMetricsOptions
{
    /// <summary>The accelerator a profile is priced on when neither the options nor its metadata name one: the paper's 80-GB A100.</summary>
    public static Accelerator DefaultAccelerator => Accelerators.A100_80GB;

    /// <summary>Accelerators per request when neither the options nor the profile's metadata give a count.</summary>
    public const int DefaultAcceleratorCount = 1;

    /// <summary>
    /// The idealized runtime profile <c>t(p, o)</c> of the model behind the client (required), e.g.
    /// <c>PaperTable3.Get("OpenAI/davinci", RuntimeMetric.Idealized)</c> or <c>RuntimeModelJson.Load(path)</c>.
    /// </summary>
    public RuntimeModel? IdealizedRuntime { get; set; }

    /// <summary>An optional denoised runtime profile (black-box API, §3.5); when set, each response also gets a denoised runtime.</summary>
    public RuntimeModel? DenoisedRuntime { get; set; }

    /// <summary>
    /// The accelerator whose hourly price and board power give the idealized cost and energy. Default
    /// <see langword="null"/>: the one the idealized profile's metadata names (<see cref="Accelerators.ForProfile"/>: its
    /// accelerator name, hardware and price, so an H100 profile is priced as an H100); where the metadata names none,
    /// <see cref="DefaultAccelerator"/>, and the response's metrics (<see cref="EfficiencyMetrics.PricingDefaults"/>) and
    /// the log say so. Set it to price every request on that accelerator instead.
    /// </summary>
    public Accelerator? Accelerator { get; set; }

    /// <summary>
    /// Accelerators <c>n</c> serving one request. Default <see langword="null"/>: the idealized profile's
    /// <see cref="RuntimeModelMetadata.AcceleratorCount"/> (Table 3's GPU counts); where it records none, 1, and the
    /// response's metrics and the log say so.
    /// </summary>
    public int? AcceleratorCount { get; set; }

    /// <summary>
    /// An optional measured energy model of the model behind the client, e.g. <c>EnergyModelJson.Load</c> of the
    /// <c>.energy.json</c> that <c>TorchProfiler.ProfileToFolderAsync</c> writes; when set, each response also gets
    /// <see cref="EfficiencyMetrics.MeasuredEnergyJoules"/>. Default <see langword="null"/>. Independent of <see cref="Accelerator"/>.
    /// </summary>
    public EnergyModel? Energy { get; set; }

    /// <summary>Compute runtimes only, no idealized cost or energy. Default <see langword="false"/>.</summary>
    public bool RuntimesOnly { get; set; }

    /// <summary>
    /// Where the client says which defaults it priced with (once, when it is built); default <see langword="null"/>: the
    /// pipeline's <c>ILoggerFactory</c> when <c>UseLlmEffMetrics</c> finds one in its services, else no log.
    /// </summary>
    public ILogger? Logger { get; set; }

    /// <summary>Running totals to add every request to; default <see langword="null"/>: the client keeps its own. Share one between clients to total a whole run.</summary>
    public EfficiencyMetricsAccumulator? Accumulator { get; set; }

    /// <summary>
    /// Clock that times every call (raw runtime, time to the first streamed update). Default <see cref="TimeProvider.System"/>;
    /// tests pass a fake one so that no timing depends on how busy the machine is.
    /// </summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    // A copy with another logger, so the builder can add the pipeline's logger without changing the caller's options. A
    // member-wise copy, so that no setting added later is left behind (the energy model once was).
    internal EfficiencyMetricsOptions WithLogger(ILogger? logger)
    {
        var copy = (EfficiencyMetricsOptions)MemberwiseClone();
        copy.Logger = logger;
        return copy;
    }
}
