using System.Text.Json.Serialization;

namespace LlmEff.Profiling.Api;

/// <summary>Source-generated (trim- and AOT-safe) JSON for journal records: snake_case names and enum values, nulls omitted.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    Converters = [typeof(SnakeCaseEnumConverter<ApiSampleStatus>), typeof(SnakeCaseEnumConverter<EndpointFailureKind>)])]
[JsonSerializable(typeof(ApiSampleRecord))]
[JsonSerializable(typeof(ApiJournalHeader))]
internal sealed partial class ApiJournalJsonContext : JsonSerializerContext;
