using Microsoft.ML.Tokenizers;

namespace LlmEff.Profiling.Api;

/// <summary>How <see cref="BenchmarkLogImport"/> treats requests whose tokens are in doubt.</summary>
public sealed record BenchmarkImportOptions
{
    /// <summary>The defaults: mismatched lengths excluded, no tokenizer.</summary>
    public static BenchmarkImportOptions Default { get; } = new();

    /// <summary>
    /// Keep requests whose output length differs from the one they asked for, as samples of the length they report.
    /// Off by default: a length that differs from the request often means a stop at end-of-sequence or a tokenizer
    /// disagreement, which the paper's exact-length configuration queries rule out. Kept requests are counted in
    /// <see cref="ImportedBenchmarkLog.KeptMismatchedCount"/>.
    /// </summary>
    public bool FitMismatchedOnReportedLength { get; init; }

    /// <summary>
    /// Counts prompt and answer tokens where the log holds only text (GenAI-Perf's raw export without a <c>usage</c>
    /// in the responses), as GenAI-Perf itself does with the model's tokenizer; null leaves such requests excluded as
    /// <see cref="BenchmarkExclusionReason.MissingTokenCounts"/>. Use the served model's tokenizer: another
    /// vocabulary miscounts.
    /// </summary>
    public Tokenizer? Tokenizer { get; init; }
}
