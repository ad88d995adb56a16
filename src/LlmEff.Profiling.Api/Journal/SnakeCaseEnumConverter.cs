using System.Text.Json;
using System.Text.Json.Serialization;

namespace LlmEff.Profiling.Api;

/// <summary>Writes enum values as snake_case strings (<c>rate_limited</c>), matching the journal's property names.</summary>
internal sealed class SnakeCaseEnumConverter<TEnum>() : JsonStringEnumConverter<TEnum>(JsonNamingPolicy.SnakeCaseLower)
    where TEnum : struct, Enum;
