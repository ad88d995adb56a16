namespace LlmEff.Profiling.Api.Journal;

/// <summary>How a journaled request ended.</summary>
public enum ApiSampleStatus
{
    /// <summary>It succeeded; a resumed run does not repeat it.</summary>
    Succeeded = 0,

    /// <summary>Every attempt failed or the failure was permanent; a resumed run tries it again.</summary>
    Failed = 1,
}
