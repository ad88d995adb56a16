using LlmEff.Core.Analysis;
using LlmEff.Core.Architecture;
using LlmEff.Core.Hardware;

namespace LlmEff.Core.Tests.Architecture;

public class MixtureOfExpertsArchitectureTests
{
    // Totals and active counts from the model cards; computed counts must be within 2% (the few bias and Q/K-norm
    // parameters the shape leaves out are far below that).
    [Theory]
    [InlineData("Qwen/Qwen3-30B-A3B", 30.5e9, 3.3e9)] // Qwen3-30B-A3B model card: 30.5B total, 3.3B activated.
    [InlineData("Qwen/Qwen1.5-MoE-A2.7B", 14.3e9, 2.7e9)] // Qwen1.5-MoE-A2.7B model card: 14.3B total, 2.7B activated.
    [InlineData("mistralai/Mixtral-8x7B-v0.1", 46.7e9, 12.9e9)] // Mistral AI, "Mixtral of experts": 46.7B total, 12.9B active.
    public void TotalAndActiveParameters_MatchPublished(string name, double total, double active)
    {
        var a = ArchitectureCatalog.Get(name).Validate();
        Assert.Equal(total, a.ParameterCount, 0.02 * total);
        Assert.Equal(active, a.ActiveParameterCount, 0.02 * active);
    }

    [Fact]
    public void Qwen3_CountsByHand()
    {
        var a = ArchitectureCatalog.Get("Qwen/Qwen3-30B-A3B");
        Assert.Equal(4096, a.AttentionWidth);
        // q and o: 2048 x 4096 each; k and v: 2048 x 512 each.
        Assert.Equal((2L * 2048 * 4096) + (2L * 2048 * 512), a.AttentionParametersPerLayer);
        Assert.Equal(3L * 2048 * 768, a.FfnParametersPerExpert);
        Assert.Equal(2048L * 128, a.RouterParametersPerLayer);
        var perLayer = a.AttentionParametersPerLayer + (128 * a.FfnParametersPerExpert) + a.RouterParametersPerLayer + (2 * 2048);
        Assert.Equal(perLayer, a.ParametersPerLayer);
        Assert.Equal(a.ParameterCount - (48L * 120 * 3 * 2048 * 768), a.ActiveParameterCount);
    }

    [Fact]
    public void SharedExperts_AreCountedInTotalAndActive()
    {
        var a = ArchitectureCatalog.Get("Qwen/Qwen1.5-MoE-A2.7B");
        var shared = (3L * 2048 * 5632) + 2048;
        Assert.Equal(shared, a.SharedExpertParametersPerLayer);
        var withoutShared = a with { SharedExperts = 0, SharedExpertGate = false };
        Assert.Equal(24 * shared, a.ParameterCount - withoutShared.ParameterCount);
        Assert.Equal(24 * shared, a.ActiveParameterCount - withoutShared.ActiveParameterCount);
    }

    [Fact]
    public void Flops_CountRoutedAndSharedExpertsOnly()
    {
        var a = ArchitectureCatalog.Get("Qwen/Qwen1.5-MoE-A2.7B");
        var dense = a with { Experts = 1, ExpertsPerToken = 1, SharedExperts = 0, SharedExpertGate = false };
        var s = 7;
        var difference = TransformerFlops.ForwardPass(a, s, 0) - TransformerFlops.ForwardPass(dense, s, 0);
        // Routed: 4 experts of 3 matrices 2048 x 1408 instead of the dense 5632; plus the shared expert, its gate and the router.
        double perToken = (4 * 3.0 * 2 * 2048 * 1408) - (3.0 * 2 * 2048 * 5632) + (3.0 * 2 * 2048 * 5632) + (2.0 * 2048) + (2.0 * 2048 * 60);
        Assert.Equal(24 * s * perToken, difference, 1e-9 * difference);
    }

    [Fact]
    public void DecodeBytes_ReadActiveExpertsOnly_PrefillTouchesMore()
    {
        var a = ArchitectureCatalog.Get("Qwen/Qwen3-30B-A3B");
        var p = InferencePrecision.Bf16;
        var decode = MemoryTraffic.OutputToken(a, 100, 1, p);
        // One token reads the active parameters minus the embedding table plus one embedding row (head counted as active).
        var expected = (a.ActiveParameterCount - a.EmbeddingParameters + 2048.0) * 2;
        Assert.Equal(expected, decode.WeightBytes, 1e-9 * expected);
        var prefill = MemoryTraffic.PromptEncoding(a, 512, 1, p);
        Assert.True(prefill.WeightBytes > 5 * decode.WeightBytes);
        Assert.True(prefill.WeightBytes < MemoryTraffic.WeightBytes(a, p));
    }

    [Fact]
    public void SlidingWindow_CapsKvCacheAndAttention()
    {
        var mistral = ArchitectureCatalog.Get("mistralai/Mistral-7B-v0.1");
        Assert.Equal(4096, mistral.SlidingWindowTokens);
        var full = mistral with { SlidingWindowTokens = null };
        var p = InferencePrecision.Bf16;
        Assert.Equal(MemoryTraffic.KvCacheBytes(full, p, 4096), MemoryTraffic.KvCacheBytes(mistral, p, 10000));
        Assert.Equal(MemoryTraffic.KvCacheBytes(full, p, 3000), MemoryTraffic.KvCacheBytes(mistral, p, 3000));

        // Within the window nothing changes; past it a decode step costs what the step at the window's edge costs.
        Assert.Equal(TransformerFlops.OutputToken(full, 2000), TransformerFlops.OutputToken(mistral, 2000));
        Assert.Equal(TransformerFlops.OutputToken(mistral, 4096), TransformerFlops.OutputToken(mistral, 9000));
        Assert.True(TransformerFlops.OutputToken(full, 9000) > TransformerFlops.OutputToken(mistral, 9000));
        Assert.Equal(MemoryTraffic.OutputToken(mistral, 4096, 1, p).KvCacheReadBytes, MemoryTraffic.OutputToken(mistral, 9000, 1, p).KvCacheReadBytes);

        // Prefill of 6000 tokens, causal: pairs = sum of min(m, 4096) for m = 1..6000, attention 4·h per pair; by
        // default (the paper's count, no causal saving) 6000 · min(6000, 4096).
        var causal = new FlopCountOptions { CausalAttention = true };
        var pairs = (4096.0 * 4097 / 2) + ((6000.0 - 4096) * 4096);
        var fullPairs = 6000.0 * 6001 / 2;
        var saved = TransformerFlops.ForwardPass(full, 6000, 0, 1, causal) - TransformerFlops.ForwardPass(mistral, 6000, 0, 1, causal);
        Assert.Equal(32 * 4.0 * 4096 * (fullPairs - pairs), saved, 1e-9 * saved);
        var savedPaper = TransformerFlops.ForwardPass(full, 6000, 0) - TransformerFlops.ForwardPass(mistral, 6000, 0);
        Assert.Equal(32 * 4.0 * 4096 * 6000 * (6000.0 - 4096), savedPaper, 1e-9 * savedPaper);

        // Generation sums the passes (no closed form past the window): equal to summing OutputToken.
        var sum = Enumerable.Range(4001, 199).Sum(i => TransformerFlops.OutputToken(mistral, i));
        Assert.Equal(sum, TransformerFlops.Generation(mistral, 4000, 200), 1e-9 * sum);
    }

    [Fact]
    public void MinimumAccelerators_HoldEveryExpert_AndOnlyTheWindowOfCache()
    {
        // Mixtral's 46.7B parameters in fp16 (93 GB) do not fit one 80 GB H100, though its 12.9B active ones would.
        var mixtral = ArchitectureCatalog.Get("mistralai/Mixtral-8x7B-v0.1");
        var plan = AcceleratorPlanner.MinimumAccelerators(mixtral, Accelerators.H100_SXM, new ServingRequirements { ContextTokens = 4096 });
        Assert.Equal(2, plan.AcceleratorCount);
        Assert.Equal(MemoryTraffic.WeightBytes(mixtral, InferencePrecision.Fp16), plan.WeightBytes);

        // Mistral 7B's cache stops at its 4,096-token window: a 32K context needs the cache of 4,096 tokens.
        var mistral = ArchitectureCatalog.Get("mistralai/Mistral-7B-v0.1");
        var at32k = AcceleratorPlanner.MinimumAccelerators(mistral, Accelerators.H100_SXM, new ServingRequirements { ContextTokens = 32768 });
        var at4k = AcceleratorPlanner.MinimumAccelerators(mistral, Accelerators.H100_SXM, new ServingRequirements { ContextTokens = 4096 });
        Assert.Equal(at4k.KvCacheBytes, at32k.KvCacheBytes);
        Assert.Equal(MemoryTraffic.KvCacheBytes(mistral, InferencePrecision.Fp16, 4096), at32k.KvCacheBytes);
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(8, 9)]
    [InlineData(8, 0)]
    public void Validate_RefusesExpertCountsThatDoNotFit(int experts, int perToken)
    {
        var a = new TransformerArchitecture("tiny", 64, 2, 4, 100, 64) { Experts = experts, ExpertsPerToken = perToken };
        Assert.Throws<ArgumentException>(() => a.Validate());
    }

    [Fact]
    public void Validate_RefusesSharedExpertsOnDenseModelsAndBadWindows()
    {
        var dense = new TransformerArchitecture("tiny", 64, 2, 4, 100, 64);
        var e1 = Assert.Throws<ArgumentException>(() => (dense with { SharedExperts = 1 }).Validate());
        Assert.Equal("SharedExperts", e1.ParamName);
        var e2 = Assert.Throws<ArgumentException>(() => (dense with { SlidingWindowTokens = 0 }).Validate());
        Assert.Equal("SlidingWindowTokens", e2.ParamName);
        var e3 = Assert.Throws<ArgumentException>(() => (dense with { Experts = 4, ExpertsPerToken = 2, SharedExpertGate = true }).Validate());
        Assert.Equal("SharedExpertGate", e3.ParamName);
        var e4 = Assert.Throws<ArgumentException>(() => (dense with { HeadDim = 0 }).Validate());
        Assert.Equal("HeadDim", e4.ParamName);
    }

    [Fact]
    public void Json_RoundTripsNewFields_AndOldFilesStillRead()
    {
        foreach (var name in new[] { "Qwen/Qwen3-30B-A3B", "Qwen/Qwen1.5-MoE-A2.7B", "mistralai/Mistral-7B-v0.1" })
        {
            var a = ArchitectureCatalog.Get(name);
            var back = ArchitectureJson.Parse(ArchitectureJson.Serialize(a));
            Assert.Equal(a.HeadDim, back.HeadDim);
            Assert.Equal(a.ExpertFfnHiddenSize, back.ExpertFfnHiddenSize);
            Assert.Equal(a.SharedExperts, back.SharedExperts);
            Assert.Equal(a.SharedExpertFfnHiddenSize, back.SharedExpertFfnHiddenSize);
            Assert.Equal(a.SharedExpertGate, back.SharedExpertGate);
            Assert.Equal(a.SlidingWindowTokens, back.SlidingWindowTokens);
            Assert.Equal(a.ParameterCount, back.ParameterCount);
            Assert.Equal(a.ActiveParameterCount, back.ActiveParameterCount);
        }

        // A dense model's file has none of the new keys.
        var llama = ArchitectureJson.Serialize(ArchitectureCatalog.Get("meta-llama/Meta-Llama-3-8B"));
        Assert.DoesNotContain("head_dim", llama, StringComparison.Ordinal);
        Assert.DoesNotContain("sliding_window", llama, StringComparison.Ordinal);
        var old = ArchitectureJson.Parse(ArchitectureJson.Example);
        Assert.Equal(0, old.SharedExperts);
        Assert.Null(old.SlidingWindowTokens);
        Assert.Equal(8, old.HeadDim);
    }
}
