using TorchSharp;
using static TorchSharp.torch;

namespace LlmEff.Profiling.Torch.Tests.Parallelism;

/// <summary>Tensor parallelism on the GPU machine (skipped without CUDA): shards on CUDA, summed by the host or by NCCL.</summary>
[Collection(CudaCollection.Name)]
public sealed class CudaTensorParallelTests
{
    private static readonly DecoderOptions Fp32 = new() { Precision = ModelPrecision.Float32, Seed = 11, InitStandardDeviation = 0.2 };

    [TorchTheory]
    [InlineData("llama", 4)]
    [InlineData("bloom", 2)]
    [InlineData("mqa", 4)]
    public void Cuda_shards_give_the_unsharded_logits(string name, int degree)
    {
        if (!cuda.is_available())
        {
            Assert.Skip("CUDA is not available on this machine.");
        }

        // All ranks on one GPU (this machine has one); the arithmetic is what N GPUs would run.
        var arch = TinyArchitectures.ByName(name);
        using var full = DecoderTransformer.Create(arch, Fp32, CUDA);
        using var reference = new GreedyDecoder(full, 16);
        var shards = Enumerable.Range(0, degree).Select(r => DecoderTransformer.CreateShard(full, ModelShard.TensorParallel(degree, r))).ToList();
        try
        {
            using var decoder = new TensorParallelDecoder(shards, new HostAllReduce(degree), 16);
            using var tokens = randint(0, arch.VocabularySize, [1, 6], ScalarType.Int64, generator: new Generator(5)).cuda();
            using var expected = reference.Generate(tokens, 8).cpu();
            using var actual = decoder.Generate(tokens, 8).cpu();
            Assert.Equal(expected.data<long>().ToArray(), actual.data<long>().ToArray());
        }
        finally
        {
            shards.ForEach(s => s.Dispose());
        }
    }

    [TorchFact]
    public void Nccl_one_rank_decoder_replays_captured_steps_with_the_all_reduces_inside()
    {
        if (!cuda.is_available() || !NcclCommunicator.IsAvailable)
        {
            Assert.Skip("Needs CUDA and libnccl.so.2.");
        }

        // The captured step of the real engine (NCCL all-reduces recorded in the graph, fused kernels) with one rank,
        // against the one-GPU decoder and against the same ranks' eager steps; 4-position windows cross boundaries.
        var arch = TinyArchitectures.Llama;
        using var full = DecoderTransformer.Create(arch, Fp32, CUDA);
        using var reference = new GreedyDecoder(full, 16);
        using var rank = DecoderTransformer.CreateShard(full, ModelShard.TensorParallel(1));
        using var nccl = NcclCommunicator.Create([0]);
        using var captured = new TensorParallelDecoder([rank], nccl, 16, CudaGraphMode.Required, windowTokens: 4);
        using var eager = new TensorParallelDecoder([rank], nccl, 16, CudaGraphMode.Off);
        Assert.True(captured.UsesCudaGraphs, captured.EagerReason);
        using var tokens = randint(0, arch.VocabularySize, [1, 6], ScalarType.Int64, generator: new Generator(5)).cuda();
        using var expected = reference.Generate(tokens, 10).cpu();
        using var fromGraphs = captured.Generate(tokens, 10).cpu();
        using var fromEager = eager.Generate(tokens, 10).cpu();
        Assert.Equal(expected.data<long>().ToArray(), fromGraphs.data<long>().ToArray());
        Assert.Equal(expected.data<long>().ToArray(), fromEager.data<long>().ToArray());
    }

    [TorchFact]
    public void Nccl_drives_a_tensor_parallel_decoder_with_one_rank_per_gpu()
    {
        if (!cuda.is_available() || !NcclCommunicator.IsAvailable || cuda.device_count() < 2)
        {
            Assert.Skip("Needs two or more CUDA GPUs and libnccl.so.2.");
        }

        // Rank r's shard on cuda:r, the all-reduces through NCCL between the GPUs: the real multi-GPU engine.
        var arch = TinyArchitectures.Llama;
        var degree = ModelShard.ValidTensorParallelDegrees(arch).Where(n => n <= cuda.device_count()).Max();
        using var full = DecoderTransformer.Create(arch, Fp32, CUDA);
        using var reference = new GreedyDecoder(full, 16);
        var shards = Enumerable.Range(0, degree).Select(r => DecoderTransformer.CreateShard(full, ModelShard.TensorParallel(degree, r), torch.device(DeviceType.CUDA, r))).ToList();
        try
        {
            using var nccl = NcclCommunicator.Create(Enumerable.Range(0, degree).ToArray());
            using var decoder = new TensorParallelDecoder(shards, nccl, 16);
            using var tokens = randint(0, arch.VocabularySize, [1, 6], ScalarType.Int64, generator: new Generator(5)).cuda();
            using var expected = reference.Generate(tokens, 8).cpu();
            using var actual = decoder.Generate(tokens, 8).cpu();
            Assert.Equal(expected.data<long>().ToArray(), actual.data<long>().ToArray());
            Assert.Equal(Enumerable.Range(0, degree), shards.Select(sh => (int)sh.Device.index));
        }
        finally
        {
            shards.ForEach(sh => sh.Dispose());
        }
    }
}
