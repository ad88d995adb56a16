namespace LlmEff.Profiling.Torch.Gpu;

/// <summary>
/// The prompt size up to which the harness's single-query decoders replay their prefill as CUDA graphs: the engine's
/// default, or 0 with <c>--no-prefill-graphs</c> (every prefill interpreted, as before prefill graphs: the same call's
/// baseline).
/// </summary>
internal static class PrefillGraphSetting
{
    public static int MaxTokens { get; set; } = GreedyDecoder.DefaultPrefillGraphMaxTokens;
}
