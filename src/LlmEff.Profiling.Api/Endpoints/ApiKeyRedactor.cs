namespace LlmEff.Profiling.Api;

/// <summary>Removes an API key from text before it is logged or stored.</summary>
internal static class ApiKeyRedactor
{
    public const string Placeholder = "[redacted]";

    public static string Redact(string text, string? apiKey)
        => string.IsNullOrEmpty(apiKey) ? text : text.Replace(apiKey, Placeholder, StringComparison.Ordinal);
}
