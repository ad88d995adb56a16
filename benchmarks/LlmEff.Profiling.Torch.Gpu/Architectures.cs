using LlmEff.Core.Architecture;

namespace LlmEff.Profiling.Torch.Gpu;

/// <summary>The shapes profiled on the GPU (from the models' published configs).</summary>
internal static class Architectures
{
    /// <summary>EleutherAI GPT-J-6B config.json: n_embd 4096, n_layer 28, n_head 16, vocab 50400, n_positions 2048, rotary.</summary>
    public static TransformerArchitecture GptJ6B { get; } = new("EleutherAI/gpt-j-6b", 4096, 28, 16, 50400, 2048)
    {
        Positions = PositionalScheme.Rotary,
    };

    /// <summary>Meta-Llama-3-8B config.json: hidden 4096, 32 layers, 32 heads, 8 KV heads, intermediate 14336, vocab 128256.</summary>
    public static TransformerArchitecture Llama3_8B { get; } = new("meta-llama/Meta-Llama-3-8B", 4096, 32, 32, 128256, 8192)
    {
        KeyValueHeads = 8,
        FfnHiddenSize = 14336,
        Ffn = FfnKind.Gated,
        Norm = NormKind.RmsNorm,
        Positions = PositionalScheme.Rotary,
        LinearBiases = false,
    };

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
