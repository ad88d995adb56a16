using LlmEff.Core;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;

namespace LlmEff.Extensions.AI;

/// <summary>Adds <see cref="EfficiencyMetricsChatClient"/> to a <see cref="ChatClientBuilder"/> pipeline.</summary>
public static class EfficiencyMetricsChatClientBuilderExtensions
{
    /// <summary>Adds an <see cref="EfficiencyMetricsChatClient"/> configured by <paramref name="options"/>.</summary>
    /// <returns><paramref name="builder"/>, for chaining.</returns>
    /// <exception cref="ArgumentException">The options are invalid (checked here, so the error points at the configuration).</exception>
    public static ChatClientBuilder UseLlmEffMetrics(this ChatClientBuilder builder, EfficiencyMetricsOptions options)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(options);
        _ = new EfficiencyMetricsCalculator(options.WithLogger(null));

        // The pricing-defaults note goes to the options' logger, else to the pipeline's logger factory.
        return builder.Use((inner, services) => new EfficiencyMetricsChatClient(
            inner,
            options.Logger is null && services.GetService(typeof(ILoggerFactory)) is ILoggerFactory factory
                ? options.WithLogger(factory.CreateLogger<EfficiencyMetricsChatClient>())
                : options));
    }

    /// <summary>
    /// Adds an <see cref="EfficiencyMetricsChatClient"/> for the model whose idealized profile is
    /// <paramref name="idealizedRuntime"/>; <paramref name="configure"/> sets the rest (denoised profile, accelerator,
    /// shared accumulator).
    /// </summary>
    /// <returns><paramref name="builder"/>, for chaining.</returns>
    /// <exception cref="ArgumentException">The options are invalid (checked here).</exception>
    public static ChatClientBuilder UseLlmEffMetrics(this ChatClientBuilder builder, RuntimeModel idealizedRuntime, Action<EfficiencyMetricsOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(idealizedRuntime);
        var options = new EfficiencyMetricsOptions { IdealizedRuntime = idealizedRuntime };
        configure?.Invoke(options);
        return builder.UseLlmEffMetrics(options);
    }
}
