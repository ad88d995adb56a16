namespace LlmEff.Profiling.Api;

/// <summary>How a journaled request ended.</summary>
public enum ApiSampleStatus
{
    /// <summary>It succeeded; a resumed run does not repeat it.</summary>
    Succeeded = 0,

    /// <summary>Every attempt failed or the failure was permanent; a resumed run tries it again.</summary>
    Failed = 1,

    /// <summary>
    /// The server answered, but the answer contradicts itself or the request (no <c>usage</c>, more tokens than
    /// asked, a stream shorter than its <c>usage</c>), so the token counts behind its runtime are unknown.
    /// <see cref="ApiSampleRecord.Issue"/> says why. Kept in the journal and counted, never fitted; a resumed run
    /// does not repeat it (the same server would answer the same way).
    /// </summary>
    Suspect = 2,
}
