using Microsoft.Extensions.AI;

namespace LlmEff.Extensions.AI;

/// <summary>Reads the <see cref="EfficiencyMetrics"/> that <see cref="EfficiencyMetricsChatClient"/> attached to a response.</summary>
public static class ChatResponseEfficiencyExtensions
{
    /// <summary>
    /// The metrics attached to <paramref name="response"/>, or null when none were attached. A response assembled from
    /// streaming updates (<c>ToChatResponse</c>) holds them in its last message's additional properties, because
    /// Microsoft.Extensions.AI merges update properties into the message; they are read from there too.
    /// </summary>
    /// <exception cref="InvalidDataException">A metrics property holds a value of the wrong type.</exception>
    public static EfficiencyMetrics? GetEfficiencyMetrics(this ChatResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        return EfficiencyMetricsProperties.Read(response.AdditionalProperties)
            ?? response.Messages.Reverse().Select(m => EfficiencyMetricsProperties.Read(m.AdditionalProperties)).FirstOrDefault(m => m is not null);
    }

    /// <summary>The metrics attached to <paramref name="message"/> (the last message of a streamed response), or null.</summary>
    /// <exception cref="InvalidDataException">A metrics property holds a value of the wrong type.</exception>
    public static EfficiencyMetrics? GetEfficiencyMetrics(this ChatMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return EfficiencyMetricsProperties.Read(message.AdditionalProperties);
    }

    /// <summary>The metrics attached to a streaming update (the final update of a stream carries them), or null.</summary>
    /// <exception cref="InvalidDataException">A metrics property holds a value of the wrong type.</exception>
    public static EfficiencyMetrics? GetEfficiencyMetrics(this ChatResponseUpdate update)
    {
        ArgumentNullException.ThrowIfNull(update);
        return EfficiencyMetricsProperties.Read(update.AdditionalProperties);
    }
}
