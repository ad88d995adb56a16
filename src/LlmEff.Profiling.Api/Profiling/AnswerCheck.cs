using System.Globalization;

namespace LlmEff.Profiling.Api;

/// <summary>
/// Decides whether a successful answer's token counts can be trusted. A runtime is only useful with the number of
/// tokens behind it; fitting a guess silently biases <c>g</c>, so an answer that cannot vouch for its counts is
/// journaled as <see cref="ApiSampleStatus.Suspect"/> with the reason instead.
/// </summary>
internal static class AnswerCheck
{
    /// <summary>Why the answer's counts cannot be trusted, or null when they can.</summary>
    public static string? Find(ApiRequestKey key, EndpointResponse response)
    {
        if (response.ReportedPromptTokens is null || response.ReportedOutputTokens is not { } reported)
        {
            return "the answer carried no usage, so the tokens behind its runtime are unknown (ask the server for usage, e.g. stream_options.include_usage)";
        }

        if (reported < 1)
        {
            return "usage reports 0 generated tokens";
        }

        if (reported > key.OutputTokens)
        {
            return string.Create(CultureInfo.InvariantCulture, $"usage reports {reported} generated tokens for max_tokens {key.OutputTokens}");
        }

        if (reported < key.OutputTokens && string.Equals(response.FinishReason, "length", StringComparison.Ordinal))
        {
            return string.Create(CultureInfo.InvariantCulture, $"usage reports {reported} of {key.OutputTokens} tokens, yet the finish reason is 'length'");
        }

        // Servers that put several tokens in one chunk would trip this too; those are rare among OpenAI-compatible
        // servers, while a stream cut short but closed cleanly by a proxy is not.
        // A reasoning model that hides its thinking (no reasoning deltas) streams only the visible tokens.
        var streamedExpected = response.ReportedReasoningTokens is > 0 && response.StreamedReasoningChunks == 0
            ? reported - response.ReportedReasoningTokens.Value
            : reported;
        if (key.Stream && response.StreamedChunks < streamedExpected)
        {
            return string.Create(CultureInfo.InvariantCulture, $"the stream delivered {response.StreamedChunks} tokens but usage claims {streamedExpected}");
        }

        return null;
    }
}
