using TorchSharp;
using static TorchSharp.torch;

namespace LlmEff.Profiling.Torch.Tests.Model;

/// <summary>Run on the GPU machine (see docs/gpu-profiling.md); skipped where CUDA is not available.</summary>
[Collection(CudaCollection.Name)]
public sealed class CudaTests
{
    // A tiny variant in fp32 with large random weights (distinct greedy tokens) on the GPU; skips without CUDA.
    private static DecoderTransformer TinyOnCuda(string name, out LlmEff.Core.Architecture.TransformerArchitecture arch)
    {
        RequireCuda();
        arch = TinyArchitectures.ByName(name);
        return DecoderTransformer.Create(arch, new DecoderOptions { Precision = ModelPrecision.Float32, Seed = 4, InitStandardDeviation = 0.2 }, CUDA);
    }

    private static void RequireCuda()
    {
        if (!cuda.is_available())
        {
            Assert.Skip("CUDA is not available on this machine.");
        }
    }

    [TorchTheory]
    [MemberData(nameof(TinyArchitectures.Names), MemberType = typeof(TinyArchitectures))]
    public void Cuda_incremental_decoding_matches_the_full_forward_pass(string name)
    {
        using var model = TinyOnCuda(name, out var arch);
        using var decoder = new GreedyDecoder(model, 16);
        using var tokens = randint(0, arch.VocabularySize, [1, 12], ScalarType.Int64, generator: new Generator(2)).cuda();
        using var full = model.call(tokens).cpu();
        using var first = decoder.PrefillLogits(tokens.narrow(1, 0, 5)).cpu();
        Close(full.narrow(1, 4, 1), first);
        for (var pos = 5; pos < 12; pos++)
        {
            using var step = decoder.DecodeLogits(tokens.narrow(1, pos, 1), pos).cpu();
            Close(full.narrow(1, pos, 1), step);
        }
    }

    [TorchFact]
    public void Cuda_bf16_generation_gives_exactly_o_tokens_and_the_same_tokens_twice()
    {
        RequireCuda();
        var arch = TinyArchitectures.Llama;
        using var model = DecoderTransformer.Create(arch, new DecoderOptions { Seed = 9 }, CUDA);
        using var decoder = new GreedyDecoder(model, 40);
        using var prompt = TorchProfiler.RandomPrompt(model, 8, 1, 0);
        using var a = decoder.Generate(prompt, 30).cpu();
        using var b = decoder.GenerateStepwise(prompt, 30).cpu();
        Assert.Equal(new long[] { 1, 30 }, a.shape);
        Assert.Equal(a.data<long>().ToArray(), b.data<long>().ToArray());
    }

    [TorchTheory]
    [MemberData(nameof(TinyArchitectures.Names), MemberType = typeof(TinyArchitectures))]
    public void Cuda_graph_replays_give_the_eager_tokens_across_windows(string name)
    {
        using var model = TinyOnCuda(name, out var arch);
        using var graphs = new GreedyDecoder(model, 45, CudaGraphMode.Required, windowTokens: 8);
        using var eager = new GreedyDecoder(model, 45, CudaGraphMode.Off);
        Assert.True(graphs.UsesCudaGraphs);
        Assert.False(eager.UsesCudaGraphs);
        foreach (var (p, o) in new[] { (5, 41), (1, 9), (12, 3) })
        {
            using var prompt = TorchProfiler.RandomPrompt(model, p, 1, 0);
            using var want = eager.Generate(prompt, o).cpu();
            using var got = graphs.Generate(prompt, o).cpu();
            Assert.Equal(want.data<long>().ToArray(), got.data<long>().ToArray());
        }
    }

    [TorchTheory]
    [MemberData(nameof(TinyArchitectures.Names), MemberType = typeof(TinyArchitectures))]
    public void Cuda_prefill_graphs_give_the_eager_tokens_and_are_captured_once_per_prompt_size(string name)
    {
        using var model = TinyOnCuda(name, out var arch);
        using var graphs = new GreedyDecoder(model, 45, CudaGraphMode.Required, windowTokens: 8, prefillGraphMaxTokens: 12);
        using var interpreted = new GreedyDecoder(model, 45, CudaGraphMode.Required, windowTokens: 8, prefillGraphMaxTokens: 0);
        using var eager = new GreedyDecoder(model, 45, CudaGraphMode.Off);
        Assert.Equal(12, graphs.PrefillGraphMaxTokens);
        graphs.PreparePrefill(5);
        Assert.Equal([5], graphs.CapturedPrefillSizes);

        // 5 and 12 replay captured prefills (5 twice, from two prompts), 20 is interpreted.
        foreach (var (p, o, trial) in new[] { (5, 41, 0), (12, 3, 0), (5, 9, 1), (20, 20, 0) })
        {
            using var prompt = TorchProfiler.RandomPrompt(model, p, 1, trial);
            using var want = eager.Generate(prompt, o).cpu();
            using var got = graphs.Generate(prompt, o).cpu();
            using var plain = interpreted.Generate(prompt, o).cpu();
            Assert.Equal(want.data<long>().ToArray(), got.data<long>().ToArray());
            Assert.Equal(want.data<long>().ToArray(), plain.data<long>().ToArray());
        }

        Assert.Equal([5, 12], graphs.CapturedPrefillSizes.Order());
        Assert.Empty(interpreted.CapturedPrefillSizes);
    }

    [TorchFact]
    public void Nvml_reports_the_gpu_and_its_memory()
    {
        RequireCuda();
        var gpu = NvmlGpu.TryOpen(0);
        Assert.NotNull(gpu);
        var info = gpu.Query();
        Assert.Contains("NVIDIA", info.Name, StringComparison.Ordinal);
        Assert.InRange(info.FreeMemoryBytes, 1L << 30, info.TotalMemoryBytes);
        var e0 = gpu.TotalEnergyJoules();
        Assert.NotNull(e0);
        Thread.Sleep(300);
        Assert.True(gpu.TotalEnergyJoules() >= e0);
    }

    private static void Close(Tensor expected, Tensor actual)
    {
        // fp32 on the GPU: cuBLAS may use TF32-free fp32 kernels in different orders; 1e-3 relative to the logit scale.
        var diff = (expected - actual).abs().max().item<float>();
        var scale = expected.abs().max().item<float>();
        Assert.True(diff <= 1e-3 * Math.Max(1, scale), $"max |diff| = {diff} (scale {scale})");
    }
}
