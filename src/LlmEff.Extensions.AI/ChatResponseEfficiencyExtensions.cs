using Microsoft.Extensions.AI;

namespace LlmEff.Extensions.AI;

/// <summary>Reads the <see cref="EfficiencyMetrics"/> that <see cref="EfficiencyMetricsChatClient"/> attached to a response.</summary>
public static class ChatResponseEfficiencyExtensions
{
    /// <summary>The metrics attached to <paramref name="response"/>, or null when none were attached.</summary>
    /// <exception cref="InvalidDataException">A metrics property holds a value of the wrong type.</exception>
    public static EfficiencyMetrics? GetEfficiencyMetrics(this ChatResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        return EfficiencyMetricsProperties.Read(response.AdditionalProperties);
    }

    /// <summary>The metrics attached to a streaming update (the final update of a stream carries them), or null.</summary>
    /// <exception cref="InvalidDataException">A metrics property holds a value of the wrong type.</exception>
    public static EfficiencyMetrics? GetEfficiencyMetrics(this ChatResponseUpdate update)
    {
        ArgumentNullException.ThrowIfNull(update);
        return EfficiencyMetricsProperties.Read(update.AdditionalProperties);
    }
}
