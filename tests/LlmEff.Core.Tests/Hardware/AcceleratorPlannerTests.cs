using LlmEff.Core.Analysis;
using LlmEff.Core.Architecture;
using LlmEff.Core.Hardware;

namespace LlmEff.Core.Tests.Hardware;

public class AcceleratorPlannerTests
{
    // Paper Table 1, "# GPUs × GPU type" column (all 80GB-A100).
    public static TheoryData<string, int> Table1Gpus => new()
    {
        { "OpenAI/davinci", 8 }, { "AI21/J1-Large v1", 1 }, { "AI21/J1-Grande v1", 1 }, { "AI21/J1-Jumbo v1", 8 },
        { "Cohere/XL v20220609", 4 }, { "Anthropic/v4-s3", 4 }, { "Microsoft+NV/TNLG v2", 24 }, { "EleutherAI/GPT-J", 1 },
        { "Yandex/YaLM", 4 }, { "BigScience/BL00M", 8 },
    };

    [Theory]
    [MemberData(nameof(Table1Gpus))]
    public void PowersOfTwo_ReproduceTable1_ExceptThe52BModels(string name, int paperGpus)
    {
        // fp16 weights + KV cache for the full context at batch 1, 10% reserve, tensor parallelism up to 8 in powers of
        // two, then pipeline stages dividing the layers (the paper's Megatron setup). The two 52B models need
        // 104 GB + 4.3/17.2 GB of cache, which fits in 2 × 72 GiB usable; the paper used 4 (docs/metrics.md says why).
        var plan = AcceleratorPlanner.MinimumAccelerators(ArchitectureCatalog.Get(name), Accelerators.A100_80GB, new ServingRequirements { PowerOfTwoTensorParallel = true });
        var expected = name is "Cohere/XL v20220609" or "Anthropic/v4-s3" ? 2 : paperGpus;
        Assert.Equal(expected, plan.AcceleratorCount);
        Assert.True(plan.MemoryUtilization <= 1.0);
    }

    [Fact]
    public void Tnlg_NeedsPipelineStagesThatDivide105Layers()
    {
        // 530B · 2 bytes ≈ 1.06 TB > 8 × 72 GiB, so tensor parallelism 8 plus pipeline stages; 2 stages would fit
        // (16 GPUs) but 2 does not divide 105 layers, so 3 stages: 24 GPUs, as Table 1 and Smith et al. 2022 used.
        var plan = AcceleratorPlanner.MinimumAccelerators(ArchitectureCatalog.Get("Microsoft+NV/TNLG v2"), Accelerators.A100_80GB);
        Assert.Equal((8, 3, 24), (plan.TensorParallelDegree, plan.PipelineStages, plan.AcceleratorCount));
    }

    [Fact]
    public void AnyDivisor_UsesFewerGpusWhereTheHeadsAllow()
    {
        // davinci: 349 GB weights + 9.7 GB cache = 359 GB / 77.3 GB usable = 4.64 → 5; 5 does not divide 96 heads → 6.
        // BLOOM: 352.5 + 8.2 GB = 361 GB → 4.67 → 5; divisors of 112 heads: 1, 2, 4, 7, 8 → 7.
        var a100 = Accelerators.A100_80GB;
        Assert.Equal(6, AcceleratorPlanner.MinimumAccelerators(ArchitectureCatalog.Get("OpenAI/davinci"), a100).AcceleratorCount);
        Assert.Equal(7, AcceleratorPlanner.MinimumAccelerators(ArchitectureCatalog.Get("BigScience/BL00M"), a100).AcceleratorCount);
    }

    [Fact]
    public void Plan_BytesMatchHandComputation()
    {
        // GPT-J on one A100-80GB: weights 2 · ParameterCount; cache 2 · 28 · 16 · 256 · 2 bytes · 2048 tokens = 939,524,096.
        var gptj = ArchitectureCatalog.Get("EleutherAI/GPT-J");
        var plan = AcceleratorPlanner.MinimumAccelerators(gptj, Accelerators.A100_80GB);
        Assert.Equal(2.0 * gptj.ParameterCount, plan.WeightBytes);
        Assert.Equal(939_524_096.0, plan.KvCacheBytes);
        Assert.Equal(81920.0 * 1024 * 1024 * 0.9, plan.UsableBytesPerAccelerator, 1.0);
    }

    [Fact]
    public void KvHeadsAreReplicatedPastTheirCount()
    {
        // Llama 3 8B has 8 KV heads; at tensor-parallel degree 16 each rank keeps one, so the cache doubles.
        var llama = ArchitectureCatalog.Get("meta-llama/Meta-Llama-3-8B");
        var tiny = new Accelerator("tiny-1GB", 1L << 30, 1e12, 1e11, 50, 0);
        var req = new ServingRequirements { MaxTensorParallelDegree = 32, ContextTokens = 1024, AllowPipelineParallel = false, ReserveFraction = 0 };
        var plan = AcceleratorPlanner.MinimumAccelerators(llama, tiny, req);
        Assert.Equal(16, plan.TensorParallelDegree);
        Assert.Equal(2.0 * 32 * 16 * 128 * 2 * 1024, plan.KvCacheBytes);
        Assert.DoesNotContain(12, AcceleratorPlanner.TensorParallelDegrees(llama, req)); // 12 neither divides 8 nor is a multiple of it
    }

    [Fact]
    public void BatchAndContextGrowTheCache()
    {
        // Llama 3 70B, fp16: 141 GB weights; 32 sequences × 8,192 tokens × 320 KiB = 86 GB of cache → 4 GPUs, not 2.
        var llama70 = ArchitectureCatalog.Get("meta-llama/Meta-Llama-3-70B");
        Assert.Equal(2, AcceleratorPlanner.MinimumAccelerators(llama70, Accelerators.A100_80GB, new ServingRequirements { ContextTokens = 2048 }).AcceleratorCount);
        Assert.Equal(4, AcceleratorPlanner.MinimumAccelerators(llama70, Accelerators.A100_80GB, new ServingRequirements { BatchSize = 32 }).AcceleratorCount);
    }

    [Fact]
    public void NoLayoutFits_ThrowsWithTheNeed()
    {
        var e = Assert.Throws<InvalidOperationException>(() => AcceleratorPlanner.MinimumAccelerators(
            ArchitectureCatalog.Get("OpenAI/davinci"), Accelerators.A100_80GB, new ServingRequirements { MaxTensorParallelDegree = 2, AllowPipelineParallel = false }));
        Assert.Contains("GB", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => AcceleratorPlanner.MinimumAccelerators(
            ArchitectureCatalog.Get("OpenAI/davinci"), Accelerators.A100_80GB, new ServingRequirements { ReserveFraction = 1 }));
    }
}
