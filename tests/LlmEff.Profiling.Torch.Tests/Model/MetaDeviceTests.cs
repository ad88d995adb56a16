using LlmEff.Core.Architecture;
using TorchSharp;
using static TorchSharp.torch;

namespace LlmEff.Profiling.Torch.Tests.Model;

/// <summary>Full-size models built on the meta device (shapes only, no memory) must allocate exactly Core's parameter count.</summary>
public sealed class MetaDeviceTests
{
    // Llama 3 70B config.json: hidden 8192, 80 layers, 64 heads, 8 KV heads, intermediate 28672, vocab 128256, 8192 context.
    private static readonly TransformerArchitecture Llama3_70B = new("meta-llama/Meta-Llama-3-70B", 8192, 80, 64, 128256, 8192)
    {
        KeyValueHeads = 8,
        FfnHiddenSize = 28672,
        Ffn = FfnKind.Gated,
        Norm = NormKind.RmsNorm,
        Positions = PositionalScheme.Rotary,
        LinearBiases = false,
    };

    // GPT-3 175B (Brown et al., 2020, Table 2.1): h 12288, 96 layers, 96 heads, 2048 context, GPT-2 vocabulary of 50257.
    private static readonly TransformerArchitecture Gpt3_175B = new("openai/gpt-3-175b", 12288, 96, 96, 50257, 2048);

    // BLOOM 176B config.json: hidden 14336, 70 layers, 112 heads, vocab 250880, ALiBi, tied embeddings.
    private static readonly TransformerArchitecture Bloom176B = new("bigscience/bloom", 14336, 70, 112, 250880, 2048)
    {
        Positions = PositionalScheme.Alibi,
        TiedEmbeddings = true,
    };

    public static TheoryData<string, double> Models { get; } = new()
    {
        // Published sizes: Llama 3 70B "70.6B", GPT-3 "175.0B", BLOOM "176B" (176,247,271,424 per its model card).
        { "llama3-70b", 70.6e9 },
        { "gpt3-175b", 175.0e9 },
        { "bloom-176b", 176.2e9 },
    };

    [TorchTheory]
    [MemberData(nameof(Models))]
    public void Meta_device_model_allocates_exactly_cores_parameter_count(string name, double publishedParameters)
    {
        var arch = name switch
        {
            "llama3-70b" => Llama3_70B,
            "gpt3-175b" => Gpt3_175B,
            _ => Bloom176B,
        };
        using var model = DecoderTransformer.Create(arch, device: META);
        Assert.Equal(arch.ParameterCount, model.AllocatedParameterCount);
        Assert.All(model.parameters(), p => Assert.Equal(DeviceType.META, p.device.type));
        // Cross-check the shape against the published size (1%: vendors round, and GPT-3's vocabulary is approximate).
        Assert.InRange(model.AllocatedParameterCount, publishedParameters * 0.99, publishedParameters * 1.01);
    }

    [TorchFact]
    public void A_shard_with_an_odd_ffn_width_counts_only_its_real_parameters()
    {
        // YaLM-100B's rank 0 of 4: 6,827 FFN columns per rank, stored 6,832 wide with zeros (ShardShape.FfnStorageWidth).
        var yalm = ArchitectureCatalog.PaperTable1.Single(a => a.Name == "Yandex/YaLM");
        using var shard = DecoderTransformer.CreateShard(yalm, ModelShard.TensorParallel(4, 0), device: META);
        Assert.Equal(6827, shard.Shape.FfnHiddenSize);
        Assert.Equal(6832, shard.Shape.FfnStorageWidth);
        Assert.Equal(shard.Shape.ParameterCount(yalm), shard.AllocatedParameterCount);
        var down = shard.Blocks[0].ScriptTensors().Single(t => t.ndim == 2 && t.shape[0] == 6832);
        Assert.Equal(new long[] { 6832, yalm.HiddenSize }, down.shape);
        Assert.Equal(DeviceType.META, down.device.type);
    }
}
