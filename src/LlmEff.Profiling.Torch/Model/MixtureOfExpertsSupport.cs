using LlmEff.Core.Architecture;

namespace LlmEff.Profiling.Torch;

/// <summary>What of a mixture-of-experts architecture the engine builds, checked before any weight is made.</summary>
internal static class MixtureOfExpertsSupport
{
    /// <summary>Throws for a mixture this engine does not build: experts with biases (no current open mixture has them).</summary>
    /// <exception cref="NotSupportedException">The architecture's experts carry biases.</exception>
    public static void Check(TransformerArchitecture architecture)
    {
        if (architecture.IsMixtureOfExperts && architecture.LinearBiases)
        {
            throw new NotSupportedException($"{architecture.Name}: experts with biases (LinearBiases = true on a mixture of experts) are not built by this engine; set LinearBiases = false (Mixtral, Qwen-MoE and Qwen3-MoE have none).");
        }
    }
}
