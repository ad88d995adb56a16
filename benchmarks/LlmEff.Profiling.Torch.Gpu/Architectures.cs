using LlmEff.Core.Architecture;

namespace LlmEff.Profiling.Torch.Gpu;

/// <summary>The shapes profiled on the GPU: the catalog's entries, so the harness measures what the library ships.</summary>
internal static class Architectures
{
    /// <summary>GPT-J-6B as the catalog ships it (one LayerNorm per layer shared by attention and FFN).</summary>
    public static TransformerArchitecture GptJ6B { get; } = ArchitectureCatalog.Get("EleutherAI/gpt-j-6b");

    /// <summary>Meta-Llama-3-8B as the catalog ships it (GQA 32/8, gated FFN 14,336, RMSNorm, no biases).</summary>
    public static TransformerArchitecture Llama3_8B { get; } = ArchitectureCatalog.Get("meta-llama/Meta-Llama-3-8B");

    /// <summary>A tiny model for the CPU smoke run.</summary>
    public static TransformerArchitecture Tiny { get; } = new("tiny", 64, 2, 4, 512, 2048)
    {
        KeyValueHeads = 2,
        Ffn = FfnKind.Gated,
        Norm = NormKind.RmsNorm,
        Positions = PositionalScheme.Rotary,
        LinearBiases = false,
    };
}
