using LlmEff.Core;
using LlmEff.Core.Planning;

namespace LlmEff.Accuracy.Harness;

/// <summary>The measurement callback of a noisy grid whose repeats are new measurements (<c>NoisyGrid.FromCsvWithRepeats</c>).</summary>
internal static class FreshRepeats
{
    /// <summary>
    /// Answers trial k of (p, o) with <paramref name="repeat"/>(p, o, k): the grid's value first, then fresh draws of its noise.
    /// It counts the trials, so one callback serves one run (a run continued with more budget keeps the same callback).
    /// </summary>
    public static Func<ConfigurationQuery, CancellationToken, ValueTask<ProfilingSample>> Measure(Func<int, int, int, double> repeat)
    {
        var trials = new Dictionary<(int, int), int>();
        return (q, _) =>
        {
            var k = trials.GetValueOrDefault((q.PromptTokens, q.OutputTokens));
            trials[(q.PromptTokens, q.OutputTokens)] = k + 1;
            return ValueTask.FromResult(new ProfilingSample(q.PromptTokens, q.OutputTokens, repeat(q.PromptTokens, q.OutputTokens, k)) { Trial = k });
        };
    }
}
