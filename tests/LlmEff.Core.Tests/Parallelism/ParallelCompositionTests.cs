using LlmEff.Core.Architecture;
using LlmEff.Core.Hardware;
using LlmEff.Core.Parallelism;

namespace LlmEff.Core.Tests.Parallelism;

public class ParallelCompositionTests
{
    private static readonly Interconnect Link = new("test", 10e-6, 100e9, "test values");
    private static readonly TransformerArchitecture Tnlg = new("Microsoft+NV/TNLG v2", 20480, 105, 128, 50257, 2048);

    [Fact]
    public void AllReduce_FollowsTheRingFormula()
    {
        // 2(N-1)/N · S / B + α with N = 4, S = 40 KB: 1.5 · 40960 / 1e11 + 1e-5.
        Assert.Equal(1e-5 + (1.5 * 40960 / 100e9), CommunicationModel.AllReduceSeconds(40960, 4, Link), 1e-15);
        Assert.Equal(0, CommunicationModel.AllReduceSeconds(40960, 1, Link));
        Assert.Equal(1e-5 + (0.75 * 1000 / 100e9), CommunicationModel.AllGatherSeconds(1000, 4, Link), 1e-15);
        Assert.Equal(1e-5 + (1e6 / 100e9), CommunicationModel.TransferSeconds(1e6, Link), 1e-15);
        Assert.Throws<ArgumentOutOfRangeException>(() => CommunicationModel.AllReduceSeconds(-1, 2, Link));
        Assert.Throws<ArgumentOutOfRangeException>(() => CommunicationModel.AllReduceSeconds(1, 0, Link));
    }

    [Fact]
    public void Collectives_CountTwoAllReducesPerLayerPlusEmbeddingAndLogits()
    {
        var c = new TensorParallelCollectives(Tnlg, Layers: 35, TensorParallel: 8, Link);
        var perAllReduce = CommunicationModel.AllReduceSeconds(1.0 * 20480 * 2, 8, Link);
        var logits = CommunicationModel.AllGatherSeconds(50257 * 4.0, 8, Link);
        Assert.Equal((71 * perAllReduce) + logits, c.ForwardSeconds(1), 1e-15);
        Assert.Equal((2 * 35 * CommunicationModel.AllReduceSeconds(512.0 * 20480 * 2, 8, Link)) + CommunicationModel.AllReduceSeconds(512.0 * 20480 * 2, 8, Link) + logits, c.ForwardSeconds(512), 1e-12);
    }

    [Fact]
    public void Collectives_OfAParallelBlock_CountOneAllReducePerLayer()
    {
        // GPT-J's parallel block: attention's and FFN's partial sums are added on each rank and all-reduced together.
        var gptj = ArchitectureCatalog.Get("EleutherAI/GPT-J");
        Assert.Equal(BlockLayout.ParallelSharedNorm, gptj.Block);
        var c = new TensorParallelCollectives(gptj, Layers: 28, TensorParallel: 2, Link);
        Assert.Equal(1, c.AllReducesPerLayer);
        var perAllReduce = CommunicationModel.AllReduceSeconds(1.0 * 4096 * 2, 2, Link);
        var logits = CommunicationModel.AllGatherSeconds(50400 * 4.0, 2, Link);
        Assert.Equal((29 * perAllReduce) + logits, c.ForwardSeconds(1), 1e-15);
        var sequential = c with { Architecture = gptj with { Block = BlockLayout.Sequential } };
        Assert.Equal(2, sequential.AllReducesPerLayer);
        Assert.Equal(28 * perAllReduce, sequential.ForwardSeconds(1) - c.ForwardSeconds(1), 1e-15);
    }

    [Fact]
    public void Collectives_DegreeMustDivideHeads()
    {
        var ex = Assert.Throws<ArgumentException>(() => new TensorParallelCollectives(Tnlg, 35, 3, Link).ForwardSeconds(1));
        Assert.Contains("valid degrees are 1, 2, 4, 8, 16, 32, 64, 128", ex.Message, StringComparison.Ordinal);

        // Qwen2.5-7B: 28 heads but 4 key/value heads, so 7 divides the heads yet splits no key/value head evenly.
        var qwen = ArchitectureCatalog.Get("Qwen/Qwen2.5-7B");
        Assert.DoesNotContain(7, AcceleratorPlanner.TensorParallelDegrees(qwen, new ServingRequirements { MaxTensorParallelDegree = 28 }));
        var kv = Assert.Throws<ArgumentException>(() => new TensorParallelCollectives(qwen, qwen.Layers, 7, Link).Validate());
        Assert.Contains("4 key/value heads", kv.Message, StringComparison.Ordinal);
        Assert.Contains("valid degrees are 1, 2, 4, 28", kv.Message, StringComparison.Ordinal);
        new TensorParallelCollectives(qwen, qwen.Layers, 4, Link).Validate();
    }

    [Fact]
    public void TensorParallel_AddsCollectivesToTheShardProfile()
    {
        var shard = RuntimeModel.Create([(1, 0.02), (512, 0.05), (1536, 0.15)], 0.03, metadata: new RuntimeModelMetadata { ModelName = "tnlg-stage", AcceleratorCount = 1 });
        var c = new TensorParallelCollectives(Tnlg, 35, 8, Link);
        var whole = ParallelComposition.AddTensorParallelCommunication(shard, c);

        Assert.Equal(0.03 + c.ForwardSeconds(1), whole.PerOutputTokenSeconds, 1e-15);
        Assert.Equal(0.05 + c.ForwardSeconds(512), whole.PromptEncodingSeconds(512), 1e-12);
        // Collectives are linear in tokens, so interpolation between knots stays exact.
        Assert.Equal(0.10 + c.ForwardSeconds(1024), whole.PromptEncodingSeconds(1024), 1e-12);
        Assert.True(whole.Metadata.Emulated);
        Assert.Equal(8, whole.Metadata.AcceleratorCount);
        Assert.Contains("8-way tensor parallel", whole.Metadata.Notes, StringComparison.Ordinal);
    }

    [Fact]
    public void Collectives_OfABatchReduceEveryQuerysActivationsAndGatherEveryQuerysLogits()
    {
        var c = new TensorParallelCollectives(Tnlg, Layers: 35, TensorParallel: 8, Link);
        var perAllReduce = CommunicationModel.AllReduceSeconds(16.0 * 20480 * 2, 8, Link);
        var logits = CommunicationModel.AllGatherSeconds(16 * 50257 * 4.0, 8, Link);
        Assert.Equal((71 * perAllReduce) + logits, c.ForwardSeconds(16, 16), 1e-15);
        Assert.Equal(c.ForwardSeconds(512), c.ForwardSeconds(512, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => c.ForwardSeconds(4, 8));
        Assert.Throws<ArgumentOutOfRangeException>(() => c.ForwardSeconds(4, 0));
    }

    [Fact]
    public void TensorParallel_AddsEachBatchSizesCollectivesToABatchedShardProfile()
    {
        var samples = Tests.Batching.BatchedRuntimeModelTests.Grid(Tests.Batching.BatchedRuntimeModelTests.LinearTruth, [1, 4, 16]);
        var shard = Core.Batching.BatchedRuntimeModel.Fit(samples, RuntimeFitOptions.Default with { Metadata = new RuntimeModelMetadata { ModelName = "tnlg-stage", AcceleratorCount = 1 } });
        var c = new TensorParallelCollectives(Tnlg, 35, 8, Link);
        var whole = ParallelComposition.AddTensorParallelCommunication(shard, c);

        Assert.Equal(shard.ProfiledBatchSizes, whole.ProfiledBatchSizes);
        for (var i = 0; i < shard.ProfiledBatchSizes.Count; i++)
        {
            var b = shard.ProfiledBatchSizes[i];
            // A decode step all-reduces b tokens' activations; a prefill of p tokens per query, p·b of them.
            Assert.Equal(shard.BatchModels[i].PerOutputTokenSeconds + c.ForwardSeconds(b, b), whole.BatchModels[i].PerOutputTokenSeconds, 1e-12);
            Assert.Equal(shard.BatchModels[i].PromptEncodingSeconds(512) + c.ForwardSeconds(512 * b, b), whole.BatchModels[i].PromptEncodingSeconds(512), 1e-12);
        }

        Assert.Equal(shard.Predict(512, 64, 4) + c.ForwardSeconds(512 * 4, 4) + (63 * c.ForwardSeconds(4, 4)), whole.Predict(512, 64, 4), 1e-9);
        Assert.Equal(shard.FitError, whole.FitError);
        Assert.True(whole.Metadata.Emulated);
        Assert.Equal(8, whole.Metadata.AcceleratorCount);
        Assert.Contains("8-way tensor parallel", whole.Metadata.Notes, StringComparison.Ordinal);
        Assert.Throws<ArgumentNullException>(() => ParallelComposition.AddTensorParallelCommunication((Core.Batching.BatchedRuntimeModel)null!, c));
    }

    [Fact]
    public void Pipeline_TnlgAsEightByThree()
    {
        // The paper's TNLG v2: 8-way tensor x 3-way pipeline on 24 A100s; each stage 35 of the 105 layers.
        var shard = RuntimeModel.Create([(1, 0.02), (512, 0.05), (1536, 0.15)], 0.03, metadata: new RuntimeModelMetadata { AcceleratorCount = 1 });
        var stage = ParallelComposition.AddTensorParallelCommunication(shard, new TensorParallelCollectives(Tnlg, 35, 8, Link));
        var ib = Interconnects.InfiniBandHdr;
        var whole = ParallelComposition.ComposePipeline([stage, stage, stage], 20480, ib);

        Assert.Equal(24, whole.Metadata.AcceleratorCount);
        Assert.Equal((3 * stage.PerOutputTokenSeconds) + (2 * CommunicationModel.TransferSeconds(20480 * 2, ib)), whole.PerOutputTokenSeconds, 1e-15);
        Assert.Equal((3 * stage.PromptEncodingSeconds(512)) + (2 * CommunicationModel.TransferSeconds(512.0 * 20480 * 2, ib)), whole.PromptEncodingSeconds(512), 1e-12);
        Assert.Equal(whole.Predict(512, 1) + (63 * whole.PerOutputTokenSeconds), whole.Predict(512, 64), 1e-12);
    }

    [Fact]
    public void Pipeline_OneStage_IsTheStage()
    {
        var stage = RuntimeModel.Create([(1, 0.02), (512, 0.05)], 0.03);
        var whole = ParallelComposition.ComposePipeline([stage], 4096, Link);
        Assert.Equal(stage.Predict(300, 10), whole.Predict(300, 10), 1e-15);
        Assert.Throws<ArgumentException>(() => ParallelComposition.ComposePipeline([], 4096, Link));
    }

    [Fact]
    public void Interconnects_HaveSourcesAndLookup()
    {
        Assert.All(Interconnects.All, i => Assert.False(string.IsNullOrWhiteSpace(i.Validate().Source)));
        Assert.Equal(Interconnects.NvLink3, Interconnects.ForAccelerator(Accelerators.A100_80GB));
        Assert.Equal(Interconnects.NvLink4, Interconnects.ForAccelerator(Accelerators.H200));
        Assert.Equal(Interconnects.NvLink4, Interconnects.Get("nvlink4"));
        Assert.Throws<KeyNotFoundException>(() => Interconnects.Get("smoke-signals"));
    }
}
