using LlmEff.Core.Architecture;

namespace LlmEff.Profiling.Torch.Tests;

/// <summary>Tiny shapes covering every engine variant, small enough for CPU tests.</summary>
internal static class TinyArchitectures
{
    /// <summary>GPT-2/3 style: learned positions, LayerNorm, biases, standard FFN.</summary>
    public static TransformerArchitecture Gpt { get; } = new("tiny-gpt", 32, 2, 4, 97, 64);

    /// <summary>Llama style: rotary, RMSNorm, no biases, gated FFN, grouped-query attention (4 query heads per KV head).</summary>
    public static TransformerArchitecture Llama { get; } = new("tiny-llama", 64, 2, 8, 101, 64)
    {
        KeyValueHeads = 2,
        FfnHiddenSize = 96,
        Ffn = FfnKind.Gated,
        Norm = NormKind.RmsNorm,
        Positions = PositionalScheme.Rotary,
        LinearBiases = false,
    };

    /// <summary>BLOOM style: ALiBi, LayerNorm, biases, tied embeddings, 6 heads (not a power of two).</summary>
    public static TransformerArchitecture Bloom { get; } = new("tiny-bloom", 48, 2, 6, 89, 64)
    {
        Positions = PositionalScheme.Alibi,
        TiedEmbeddings = true,
    };

    /// <summary>GPT-J style: rotary with LayerNorm, biases and multi-query attention.</summary>
    public static TransformerArchitecture Mqa { get; } = new("tiny-mqa", 32, 3, 4, 61, 64)
    {
        KeyValueHeads = 1,
        Positions = PositionalScheme.Rotary,
    };

    /// <summary>GPT-J's block: attention and FFN in parallel on one LayerNorm (rotary, biases, standard FFN).</summary>
    public static TransformerArchitecture GptJ { get; } = new("tiny-gptj", 32, 2, 4, 83, 64)
    {
        Positions = PositionalScheme.Rotary,
        Block = BlockLayout.ParallelSharedNorm,
    };

    /// <summary>GPT-NeoX's block: attention and FFN in parallel on the layer's input, each through its own LayerNorm.</summary>
    public static TransformerArchitecture NeoX { get; } = new("tiny-neox", 32, 2, 4, 83, 64)
    {
        Positions = PositionalScheme.Rotary,
        Block = BlockLayout.Parallel,
    };

    /// <summary>
    /// <see cref="Gpt"/> and <see cref="Llama"/> with FFN widths that are not a multiple of 8 (100 and 90; 50 and 45 per
    /// rank of 2), which the engine stores padded with zeros (ShardShape.FfnStorageWidth), as YaLM's 6,827 per rank of 4.
    /// </summary>
    public static TheoryData<string> OddFfnNames { get; } = ["gpt-odd-ffn", "llama-odd-ffn", "gated-bias-odd-ffn"];

    public static TheoryData<string> Names { get; } = ["gpt", "llama", "bloom", "mqa", "gptj", "neox"];

    public static TransformerArchitecture ByName(string name) => name switch
    {
        "gpt" => Gpt,
        "llama" => Llama,
        "bloom" => Bloom,
        "mqa" => Mqa,
        "gptj" => GptJ,
        "neox" => NeoX,
        // Head sizes the decode attention kernel takes: the fused sequence splits attention from its output projection.
        "llama-hd32" => new("tiny-llama-hd32", 128, 2, 4, 101, 64) { KeyValueHeads = 2, FfnHiddenSize = 160, Ffn = FfnKind.Gated, Norm = NormKind.RmsNorm, Positions = PositionalScheme.Rotary, LinearBiases = false },
        "gpt-hd64" => new("tiny-gpt-hd64", 128, 2, 2, 97, 64),
        "gpt-odd-ffn" => Gpt with { Name = "tiny-gpt-odd-ffn", FfnHiddenSize = 100 },
        "llama-odd-ffn" => Llama with { Name = "tiny-llama-odd-ffn", FfnHiddenSize = 90 },
        // YaLM's own combination: gated FFN with biases and LayerNorm.
        "gated-bias-odd-ffn" => Llama with { Name = "tiny-gated-bias-odd-ffn", FfnHiddenSize = 90, LinearBiases = true, Norm = NormKind.LayerNorm },
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "unknown tiny architecture"),
    };
}
