using TorchSharp;
using static TorchSharp.torch;

namespace LlmEff.Profiling.Torch.Tests.Model;

/// <summary>
/// The batched decoder on the CPU: a batch of b prompts must give, row for row, the tokens of b independent batch-1
/// generations (prefill, cache layout, per-query attention and the static step's windows all enter that comparison).
/// </summary>
public sealed class BatchedDecodingTests
{
    private static readonly DecoderOptions Fp32 = new() { Precision = ModelPrecision.Float32, Seed = 7, InitStandardDeviation = 0.2 };

    [TorchTheory]
    [InlineData("gpt")]
    [InlineData("llama")]
    [InlineData("bloom")]
    [InlineData("mqa")]
    [InlineData("gptj")]
    [InlineData("neox")]
    [InlineData("gated-bias-odd-ffn")]
    public void A_batch_gives_each_querys_batch_one_tokens(string name)
    {
        var arch = TinyArchitectures.ByName(name);
        using var model = DecoderTransformer.Create(arch, Fp32);
        // Windows of 4 over a capacity of 23: the 14 steps cross window boundaries.
        using var batched = new BatchedGreedyDecoder(model, 23, [1, 3, 4], CudaGraphMode.Off, windowTokens: 4, availableBytes: null);
        using var single = new GreedyDecoder(model, 23, CudaGraphMode.Off);
        using var prompts = randint(0, arch.VocabularySize, [3, 6], generator: new Generator(5));

        using var tokens = batched.Generate(prompts, 15);

        Assert.Equal([3L, 15L], tokens.shape);
        for (var r = 0; r < 3; r++)
        {
            using var row = prompts.narrow(0, r, 1);
            using var alone = single.Generate(row, 15);
            using var batchedRow = tokens.narrow(0, r, 1);
            Assert.Equal(alone.data<long>().ToArray(), batchedRow.contiguous().data<long>().ToArray());
        }
    }

    /// <summary>
    /// The fused step's sequence (per-layer pieces with the kernels' reference functions between them: biases added by
    /// the next norm, rotary + cache write, attention into the output projection's head order, a gated activation) gives
    /// the all-TorchScript step's tokens; on a GPU the graphs replay that sequence with the kernels in place.
    /// </summary>
    [TorchTheory]
    [InlineData("gpt")]
    [InlineData("llama")]
    [InlineData("bloom")]
    [InlineData("mqa")]
    [InlineData("gptj")]
    [InlineData("neox")]
    [InlineData("gated-bias-odd-ffn")]
    [InlineData("llama-odd-ffn")]
    public void The_fused_step_sequence_gives_the_static_steps_tokens(string name)
    {
        var arch = TinyArchitectures.ByName(name);
        using var model = DecoderTransformer.Create(arch, Fp32);
        using var batched = new BatchedGreedyDecoder(model, 23, [3], CudaGraphMode.Off, windowTokens: 4, availableBytes: null);
        using var prompts = randint(0, arch.VocabularySize, [3, 6], generator: new Generator(5));

        using var want = batched.Generate(prompts, 15);
        using var got = batched.GenerateFusedReference(prompts, 15);

        Assert.False(batched.UsesFusedKernels);
        Assert.Equal(want.data<long>().ToArray(), got.data<long>().ToArray());
    }

    /// <summary>
    /// With the output and down projections' residual adds left to the next norm (a buffer of each projection, added row by
    /// row), the fused sequence still gives the all-TorchScript step's tokens: each buffer reaches the norm that follows it,
    /// the last one the final norm.
    /// </summary>
    [TorchTheory]
    [InlineData("llama")]
    [InlineData("llama-odd-ffn")]
    public void Deferred_residual_adds_give_the_static_steps_tokens(string name)
    {
        var arch = TinyArchitectures.ByName(name);
        using var model = DecoderTransformer.Create(arch, Fp32);
        using var batched = new BatchedGreedyDecoder(model, 23, [3], CudaGraphMode.Off, windowTokens: 4, availableBytes: null) { DeferResidualAdds = true };
        using var prompts = randint(0, arch.VocabularySize, [3, 6], generator: new Generator(5));

        using var want = batched.Generate(prompts, 15);
        using var got = batched.GenerateFusedReference(prompts, 15);

        Assert.Equal(want.data<long>().ToArray(), got.data<long>().ToArray());
    }

    [TorchFact]
    public void A_pipeline_stage_without_the_head_has_no_fused_step()
    {
        var arch = TinyArchitectures.Llama;
        using var first = DecoderTransformer.CreateShard(arch, new ModelShard { PipelineStages = 2, PipelineStage = 0 }, Fp32);
        using var batched = new BatchedGreedyDecoder(first, 8, [2], CudaGraphMode.Off, windowTokens: 4, availableBytes: null);
        using var prompts = zeros([2, 2], ScalarType.Int64);
        Assert.Throws<NotSupportedException>(() => batched.GenerateFusedReference(prompts, 3));
    }

    [TorchFact]
    public void Batched_prefill_logits_equal_batch_one_logits()
    {
        var arch = TinyArchitectures.Llama;
        using var model = DecoderTransformer.Create(arch, Fp32);
        using var batched = new BatchedGreedyDecoder(model, 16, [2], CudaGraphMode.Off);
        using var single = new GreedyDecoder(model, 16, CudaGraphMode.Off);
        using var prompts = randint(0, arch.VocabularySize, [2, 7], generator: new Generator(4));

        using var logits = batched.PrefillLogits(prompts);
        Assert.Equal([2L, (long)arch.VocabularySize], logits.shape);
        for (var r = 0; r < 2; r++)
        {
            using var alone = single.PrefillLogits(prompts.narrow(0, r, 1)).view(-1);
            Assert.True(allclose(alone, logits[r], rtol: 1e-4, atol: 1e-5));
        }
    }

    [TorchTheory]
    [InlineData("gpt", 0)]
    [InlineData("llama", 1)]
    public void A_tensor_parallel_rank_gives_its_batch_one_tokens(string name, int rank)
    {
        var arch = TinyArchitectures.ByName(name);
        using var model = DecoderTransformer.CreateShard(arch, ModelShard.TensorParallel(2, rank), Fp32);
        using var batched = new BatchedGreedyDecoder(model, 20, [2], CudaGraphMode.Off, windowTokens: 8, availableBytes: null);
        using var single = new GreedyDecoder(model, 20, CudaGraphMode.Off);
        using var prompts = randint(0, arch.VocabularySize, [2, 4], generator: new Generator(2));

        using var tokens = batched.Generate(prompts, 12);
        for (var r = 0; r < 2; r++)
        {
            using var alone = single.Generate(prompts.narrow(0, r, 1), 12);
            Assert.Equal(alone.data<long>().ToArray(), tokens.narrow(0, r, 1).contiguous().data<long>().ToArray());
        }
    }

    [TorchFact]
    public void A_smaller_batch_runs_padded_in_its_bucket_and_returns_only_its_rows()
    {
        var arch = TinyArchitectures.Gpt;
        using var model = DecoderTransformer.Create(arch, Fp32);
        using var batched = new BatchedGreedyDecoder(model, 16, [4], CudaGraphMode.Off);
        using var single = new GreedyDecoder(model, 16, CudaGraphMode.Off);
        using var prompts = randint(0, arch.VocabularySize, [3, 5], generator: new Generator(6));

        using var tokens = batched.Generate(prompts, 1);
        Assert.Equal([3L, 1L], tokens.shape);
        using var alone = single.Generate(prompts.narrow(0, 2, 1), 1);
        Assert.Equal(alone.data<long>().ToArray(), tokens.narrow(0, 2, 1).contiguous().data<long>().ToArray());
        var tooMany = Assert.Throws<ArgumentException>(() => batched.Generate(randint(0, 10, [5, 5]), 2));
        Assert.Contains("largest batch size this decoder serves (4)", tooMany.Message, StringComparison.Ordinal);
    }

    [TorchFact]
    public void A_batch_that_does_not_fit_is_refused_before_allocating_with_the_largest_that_fits()
    {
        var arch = TinyArchitectures.Gpt;
        using var model = DecoderTransformer.Create(arch, Fp32);
        var need = GpuMemoryRequirement.EstimateBatched(arch, model.Shape, ModelPrecision.Float32, 32, 32, 8);
        var fits3 = GpuMemoryRequirement.EstimateBatched(arch, model.Shape, ModelPrecision.Float32, 32, 32, 3);
        var free = fits3.KvCacheBytes + fits3.WorkspaceBytes + 1;

        var e = Assert.Throws<InsufficientGpuMemoryException>(() => new BatchedGreedyDecoder(model, 32, [1, 8], CudaGraphMode.Off, 8, free));
        Assert.Contains("A batch of 8", e.Message, StringComparison.Ordinal);
        Assert.Contains("the largest batch that fits at 32 tokens of context is 3", e.Message, StringComparison.Ordinal);
        Assert.Equal(need.TotalBytes, e.Requirement.TotalBytes);
        Assert.Equal(free, e.AvailableBytes); // the memory really free, not free plus the resident weights
        Assert.Contains("weights are resident already", e.Message, StringComparison.Ordinal);
        Assert.Equal(3, GpuMemoryRequirement.LargestBatchSize(arch, model.Shape, ModelPrecision.Float32, 32, 32, free + need.WeightBytes));
    }

    [TorchFact]
    public void Batch_memory_grows_by_one_cache_per_query()
    {
        var arch = TinyArchitectures.Llama;
        var shape = ModelShard.Full.Resolve(arch);
        var one = GpuMemoryRequirement.EstimateBatched(arch, shape, ModelPrecision.BFloat16, 64, 32, 1);
        var four = GpuMemoryRequirement.EstimateBatched(arch, shape, ModelPrecision.BFloat16, 64, 32, 4);
        Assert.Equal(one.WeightBytes, four.WeightBytes);
        Assert.Equal(4 * one.KvCacheBytes, four.KvCacheBytes);
        Assert.Equal(GpuMemoryRequirement.Estimate(arch, shape, ModelPrecision.BFloat16, 64, 32), one);
        var bad = Assert.Throws<ArgumentOutOfRangeException>(() => GpuMemoryRequirement.EstimateBatched(arch, shape, ModelPrecision.BFloat16, 64, 32, 0));
        Assert.Equal("batchSize", bad.ParamName);
    }
}
