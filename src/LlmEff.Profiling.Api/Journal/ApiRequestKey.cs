namespace LlmEff.Profiling.Api;

/// <summary>Identity of one planned request: what a resumed run matches against the journal.</summary>
/// <param name="PromptTokens">Requested prompt size <c>p</c>.</param>
/// <param name="OutputTokens">Requested output tokens <c>o</c>.</param>
/// <param name="Trial">0-based trial.</param>
/// <param name="Concurrency">Requests sent together in this batch (1 outside load studies).</param>
/// <param name="Slot">0-based position within the concurrent batch.</param>
/// <param name="Stream">Whether the request streams.</param>
public readonly record struct ApiRequestKey(int PromptTokens, int OutputTokens, int Trial, int Concurrency, int Slot, bool Stream)
{
    /// <summary>A stable seed for this request's synthetic prompt, distinct per request so no two share a cached prefix.</summary>
    public int PromptSeed(int runSeed)
    {
        // HashCode is randomised per process, so a fixed integer mix keeps prompts reproducible across runs.
        unchecked
        {
            var h = (uint)runSeed * 0x9E3779B1u;
            foreach (var v in new[] { PromptTokens, OutputTokens, Trial, Concurrency, Slot, Stream ? 1 : 0 })
            {
                h = ((h ^ (uint)v) * 0x85EBCA6Bu) + 0xC2B2AE35u;
                h ^= h >> 13;
            }

            return (int)(h & 0x7FFFFFFF);
        }
    }
}
