namespace LlmEff.Profiling.Api;

/// <summary>What a <see cref="LoadStudyProfiler"/> run left behind.</summary>
public sealed record LoadStudyResult
{
    /// <summary>Every record in the journal after the run, earlier runs' included.</summary>
    public required IReadOnlyList<ApiSampleRecord> Records { get; init; }

    /// <summary>Levels measured by this run.</summary>
    public required int LevelsRun { get; init; }

    /// <summary>Levels found finished in the journal and not sent again.</summary>
    public required int LevelsResumed { get; init; }

    /// <summary>Requests of this run that failed (errors and timeouts; a load study does not retry).</summary>
    public required int Failed { get; init; }

    /// <summary>True when the server refused <c>min_tokens</c> and requests went without it (see <see cref="OpenAiCompatibleEndpoint.MinTokensRefused"/>).</summary>
    public bool MinTokensRefused { get; init; }

    /// <summary>The journal's full path.</summary>
    public required string JournalPath { get; init; }
}
