using LlmEff.Core.Catalog;

namespace LlmEff.Core.Architecture;

/// <summary>
/// Built-in <see cref="TransformerArchitecture"/>s: the ten models of the paper's Table 1 (names exactly as the paper
/// writes them, including <c>BigScience/BL00M</c> with zeros) and current open models under their Hugging Face ids.
/// Where Table 1 gives only <c>h</c>, <c>l</c>, <c>n</c>, the other fields come from the source named on each entry.
/// </summary>
public static class ArchitectureCatalog
{
    /// <summary>The ten models of Table 1 (Narayanan et al. 2023), in the table's order.</summary>
    public static IReadOnlyList<TransformerArchitecture> PaperTable1 { get; } =
    [
        // GPT-3 175B: vocabulary 50,257 (GPT-2 BPE) and context 2,048 from Brown et al. 2020 §2.1; tied input/output
        // embeddings and learned positions as in GPT-2, which GPT-3 follows.
        new TransformerArchitecture("OpenAI/davinci", 12288, 96, 96, 50257, 2048)
        {
            TiedEmbeddings = true, PublishedParameterCount = 175_000_000_000, Source = "Table 1; Brown et al. 2020, Table 2.1",
        },

        // Jurassic-1 (Lieber et al. 2021): 256K-token vocabulary, 2,048 context, GPT-3-style blocks. Lieber et al. give
        // 7.5B parameters for J1-Large; Table 1 lists 6.7B, which is about the non-embedding count (6.44B).
        new TransformerArchitecture("AI21/J1-Large v1", 4096, 32, 32, 256_000, 2048)
        {
            TiedEmbeddings = true, PublishedParameterCount = 7_500_000_000, Source = "Table 1; Lieber et al. 2021, Table 1 (7.5B)",
        },
        new TransformerArchitecture("AI21/J1-Grande v1", 5120, 50, 40, 256_000, 2048)
        {
            TiedEmbeddings = true, PublishedParameterCount = 17_000_000_000, Source = "Table 1 (17B); vocabulary and context as J1-Large",
        },
        new TransformerArchitecture("AI21/J1-Jumbo v1", 13824, 76, 96, 256_000, 2048)
        {
            TiedEmbeddings = true, PublishedParameterCount = 178_000_000_000, Source = "Table 1; Lieber et al. 2021, Table 1 (178B)",
        },

        // Cohere has not published its tokenizer; the GPT-2 vocabulary (50,257) is an assumption worth 0.4B parameters (<1%).
        new TransformerArchitecture("Cohere/XL v20220609", 8192, 64, 64, 50257, 2048)
        {
            TiedEmbeddings = true, PublishedParameterCount = 52_000_000_000, Source = "Table 1 (52B); vocabulary assumed GPT-2's",
        },

        // Anthropic's 52B model (Askell et al. 2021): 2^16-token BPE vocabulary, 8,192-token context.
        new TransformerArchitecture("Anthropic/v4-s3", 8192, 64, 64, 65536, 8192)
        {
            TiedEmbeddings = true, PublishedParameterCount = 52_000_000_000, Source = "Table 1 (52B); Askell et al. 2021 (vocabulary, context)",
        },

        // Megatron-Turing NLG 530B (Smith et al. 2022): GPT-2 vocabulary padded to 51,200, sequence length 2,048.
        new TransformerArchitecture("Microsoft+NV/TNLG v2", 20480, 105, 128, 51200, 2048)
        {
            TiedEmbeddings = true, PublishedParameterCount = 530_000_000_000, Source = "Table 1; Smith et al. 2022 §2",
        },

        // GPT-J 6B (kingoflolz/mesh-transformer-jax README): n_vocab 50,400, context 2,048, rotary, untied output head;
        // attention and FFN in parallel on one LayerNorm per layer (HF GPTJBlock: x + attn(ln_1(x)) + mlp(ln_1(x))).
        new TransformerArchitecture("EleutherAI/GPT-J", 4096, 28, 16, 50400, 2048)
        {
            Positions = PositionalScheme.Rotary, Block = BlockLayout.ParallelSharedNorm, PublishedParameterCount = 6_053_381_344, Source = "Table 1; mesh-transformer-jax README (6,053,381,344)",
        },

        // YaLM-100B (yandex/YaLM-100B examples/generate_interactive.sh): rotary, GeGLU with intermediate size 27,308,
        // 1,024 positions, SentencePiece vocabulary of 128,000 tokens. The real model factorises its embedding through
        // 2,048 dimensions; counting a full vocab x h table (tied) overstates it by about 1B (the total stays within 3%).
        new TransformerArchitecture("Yandex/YaLM", 10240, 80, 128, 128_000, 1024)
        {
            FfnHiddenSize = 27308, Ffn = FfnKind.Gated, Positions = PositionalScheme.Rotary, TiedEmbeddings = true,
            PublishedParameterCount = 100_000_000_000, Source = "Table 1; yandex/YaLM-100B README and generation scripts",
        },

        // BLOOM (bigscience/bloom config.json): vocabulary 250,880, ALiBi, tied embeddings, 2,048 training context.
        new TransformerArchitecture("BigScience/BL00M", 14336, 70, 112, 250880, 2048)
        {
            Positions = PositionalScheme.Alibi, TiedEmbeddings = true, PublishedParameterCount = 176_247_271_424,
            Source = "Table 1; bigscience/bloom model card (176,247,271,424)",
        },
    ];

    /// <summary>
    /// Current open models, named by Hugging Face id, with shapes from each model's <c>config.json</c>. Published totals are
    /// the model cards' rounded figures (Llama 3 8B 8.03B, 70B 70.6B; Mistral 7B 7.24B; Mixtral 8x7B 46.7B total, 12.9B
    /// active; Qwen2.5 7B 7.61B, 72B 72.7B; Qwen1.5-MoE-A2.7B 14.3B total, 2.7B active; Qwen3-30B-A3B 30.5B total,
    /// 3.3B active).
    /// </summary>
    public static IReadOnlyList<TransformerArchitecture> OpenModels { get; } =
    [
        Llama("meta-llama/Meta-Llama-3-8B", 4096, 32, 32, 8, 14336, 128256, 8192, 8_030_000_000),
        Llama("meta-llama/Meta-Llama-3-70B", 8192, 80, 64, 8, 28672, 128256, 8192, 70_600_000_000),
        // Mistral 7B v0.1 attends over a 4,096-token sliding window (config.json "sliding_window": 4096); Mixtral's is null.
        Llama("mistralai/Mistral-7B-v0.1", 4096, 32, 32, 8, 14336, 32000, 32768, 7_240_000_000) with { SlidingWindowTokens = 4096 },
        Llama("mistralai/Mixtral-8x7B-v0.1", 4096, 32, 32, 8, 14336, 32000, 32768, 46_700_000_000) with { Experts = 8, ExpertsPerToken = 2 },

        // Qwen1.5-MoE-A2.7B (config.json): 60 routed experts of width 1,408, top-4, plus one shared expert of width 5,632
        // scaled by a sigmoid gate; MHA with biases on Q, K and V only (left out, as for Qwen2.5); untied head. Its dense
        // intermediate_size (5,632) is the shared expert's width; every layer is a mixture (decoder_sparse_step 1).
        Llama("Qwen/Qwen1.5-MoE-A2.7B", 2048, 24, 16, 16, 5632, 151936, 8192, 14_300_000_000) with
        {
            Experts = 60, ExpertsPerToken = 4, ExpertFfnHiddenSize = 1408, SharedExperts = 1, SharedExpertFfnHiddenSize = 5632, SharedExpertGate = true,
            Source = "Qwen/Qwen1.5-MoE-A2.7B config.json; model card: 14.3B total, 2.7B activated",
        },

        // Qwen3-30B-A3B (config.json): head_dim 128 at h = 2,048 (32 query heads are 4,096 wide), 4 KV heads, 128 experts
        // of width 768 (moe_intermediate_size), top-8, no shared expert, every layer sparse, untied head, 40,960 positions.
        // The per-head Q/K RMSNorm weights (2·128 per layer, 12K in all) are left out. Cross-checked against the Megatron
        // arguments of THUDM's slime (scripts/models/qwen3-30B-A3B.sh: kv-channels 128, moe-ffn-hidden-size 768, top-8 of 128).
        Llama("Qwen/Qwen3-30B-A3B", 2048, 48, 32, 4, 6144, 151936, 40960, 30_500_000_000) with
        {
            HeadDim = 128, Experts = 128, ExpertsPerToken = 8, ExpertFfnHiddenSize = 768,
            Source = "Qwen/Qwen3-30B-A3B config.json; model card: 30.5B total, 3.3B activated",
        },

        // Qwen2.5 has biases on Q, K and V only (not on the output or FFN projections); with LinearBiases false those
        // 0.13M (7B) / 0.8M (72B) bias parameters are left out, under 0.01% of the total.
        Llama("Qwen/Qwen2.5-7B", 3584, 28, 28, 4, 18944, 152064, 131072, 7_610_000_000),
        Llama("Qwen/Qwen2.5-72B", 8192, 80, 64, 8, 29568, 152064, 131072, 72_700_000_000),
        // GPT-NeoX-20B (config.json): use_parallel_residual with its two LayerNorms; rotary_pct 0.25 rotates a quarter of
        // each head where this shape rotates all of it (no parameters, well under 1% of the FLOPs).
        new TransformerArchitecture("EleutherAI/gpt-neox-20b", 6144, 44, 64, 50432, 2048)
        {
            Positions = PositionalScheme.Rotary, Block = BlockLayout.Parallel, PublishedParameterCount = 20_554_567_680, Source = "EleutherAI/gpt-neox-20b config.json; Black et al. 2022",
        },
        new TransformerArchitecture("EleutherAI/gpt-j-6b", 4096, 28, 16, 50400, 2048)
        {
            Positions = PositionalScheme.Rotary, Block = BlockLayout.ParallelSharedNorm, PublishedParameterCount = 6_053_381_344, Source = "EleutherAI/gpt-j-6b config.json; mesh-transformer-jax README",
        },
    ];

    /// <summary>Every built-in architecture: <see cref="PaperTable1"/> then <see cref="OpenModels"/>.</summary>
    public static IReadOnlyList<TransformerArchitecture> All { get; } = [.. PaperTable1, .. OpenModels];

    /// <summary>Names of every built-in architecture.</summary>
    public static IReadOnlyList<string> Names { get; } = All.Select(a => a.Name).ToArray();

    /// <summary>Looks up a built-in architecture by name, ignoring case.</summary>
    /// <param name="name">A name from <see cref="Names"/>, e.g. <c>OpenAI/davinci</c> or <c>meta-llama/Meta-Llama-3-8B</c>.</param>
    /// <exception cref="KeyNotFoundException">No such name; the message lists the closest names.</exception>
    public static TransformerArchitecture Get(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (TryGet(name, out var architecture))
        {
            return architecture;
        }

        var close = ClosestNames(name, 3);
        throw new KeyNotFoundException(
            $"No built-in architecture is named '{name}'. Closest: {string.Join(", ", close.Select(c => $"'{c}'"))}. " +
            $"Use one of ArchitectureCatalog.Names or build a TransformerArchitecture yourself.");
    }

    /// <summary>
    /// Looks up a built-in architecture by name, ignoring case; false when there is none. A name that matches only
    /// once zeros are read as the letter O (the paper prints BLOOM as <c>BL00M</c>) is accepted when unambiguous.
    /// </summary>
    public static bool TryGet(string name, out TransformerArchitecture architecture)
    {
        ArgumentNullException.ThrowIfNull(name);
        var trimmed = name.Trim();
        var found = All.FirstOrDefault(a => string.Equals(a.Name, trimmed, StringComparison.OrdinalIgnoreCase));
        if (found is null)
        {
            var loose = All.Where(a => Loose(a.Name) == Loose(trimmed)).ToArray();
            found = loose.Length == 1 ? loose[0] : null;
        }

        architecture = found!;
        return found is not null;
    }

    /// <summary>The <paramref name="count"/> built-in names closest to <paramref name="name"/>: names containing it first, then by edit distance.</summary>
    public static IReadOnlyList<string> ClosestNames(string name, int count) => NameSuggestions.Closest(name, Names, count);

    // Case-folded, with zeros read as O, for forgiving comparison only.
    private static string Loose(string name) => name.Trim().ToLowerInvariant().Replace('0', 'o');

    private static TransformerArchitecture Llama(string name, int h, int l, int n, int kv, int f, int vocab, int context, long published) =>
        new(name, h, l, n, vocab, context)
        {
            KeyValueHeads = kv,
            FfnHiddenSize = f,
            Ffn = FfnKind.Gated,
            Norm = NormKind.RmsNorm,
            Positions = PositionalScheme.Rotary,
            LinearBiases = false,
            PublishedParameterCount = published,
            Source = $"{name} config.json; total as the model card states it",
        };
}
