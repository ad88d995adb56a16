namespace LlmEff.Core.Serialization;

// The file's shapes as System.Text.Json reads and writes them (source-generated: RuntimeModelJsonContext); the
// conversion to and from the model, with its checks, is in RuntimeModelJson.cs.
public static partial class RuntimeModelJson
{
    internal sealed class RuntimeModelDto
    {
        public string Schema { get; set; } = SchemaName;

        public int SchemaVersion { get; set; }

        public RuntimeModelMetadata? Metadata { get; set; }

        public List<KnotDto>? PromptEncoding { get; set; }

        public double PerOutputTokenSeconds { get; set; }

        public double? PerOutputTokenContextSeconds { get; set; }

        public int? ContextKneeTokens { get; set; }

        public PromptEncodingMode? PromptEncodingMode { get; set; }

        public double OverheadSeconds { get; set; }

        public double? RSquared { get; set; }

        public TrialAggregation? Aggregation { get; set; }

        public List<PromptFitDto>? PromptSizeFits { get; set; }

        public List<ResidualDto>? Residuals { get; set; }

        public List<WarningDto>? Warnings { get; set; }
    }

    internal sealed class WarningDto
    {
        public RuntimeFitWarningKind Kind { get; set; }

        public string? Message { get; set; }

        public string? LikelyCause { get; set; }

        public string? NextMeasurement { get; set; }
    }

    internal sealed class KnotDto
    {
        public double PromptTokens { get; set; }

        public double Seconds { get; set; }
    }

    internal sealed class PromptFitDto
    {
        public int PromptTokens { get; set; }

        public double InterceptSeconds { get; set; }

        public double SlopeSecondsPerToken { get; set; }

        public double RSquared { get; set; }

        public int SampleCount { get; set; }

        public int DistinctOutputLengths { get; set; }

        public List<ResidualDto>? Residuals { get; set; }
    }

    internal sealed class ResidualDto
    {
        public int PromptTokens { get; set; }

        public int OutputTokens { get; set; }

        public double ObservedSeconds { get; set; }

        public double PredictedSeconds { get; set; }
    }
}
