using TorchSharp;
using static TorchSharp.torch;

namespace LlmEff.Profiling.Torch.Tests.Model;

/// <summary>
/// The static-shape decode step that CUDA graphs replay (token, position and outputs in device tensors; attention over a
/// masked fixed window), run here through the interpreter: it must give exactly the eager path's tokens.
/// </summary>
public sealed class StaticShapeDecodingTests
{
    private static readonly DecoderOptions Fp32 = new() { Precision = ModelPrecision.Float32, Seed = 7, InitStandardDeviation = 0.2 };

    /// <summary>Every tiny variant × the two paths graphs replay: the all-TorchScript static step, and the fused-kernel sequence.</summary>
    public static TheoryData<string, string> VariantsAndPaths { get; } = new()
    {
        { "gpt", Static }, { "llama", Static }, { "bloom", Static }, { "mqa", Static }, { "gptj", Static }, { "neox", Static },
        { "gpt", Fused }, { "llama", Fused }, { "bloom", Fused }, { "mqa", Fused }, { "gptj", Fused }, { "neox", Fused },
        { "llama-hd32", Fused }, { "gpt-hd64", Fused },
    };

    private const string Static = "static";
    private const string Fused = "fused";

    [TorchTheory]
    [MemberData(nameof(VariantsAndPaths))]
    public void Static_steps_across_windows_give_the_eager_tokens(string name, string path)
    {
        var arch = TinyArchitectures.ByName(name);
        using var model = DecoderTransformer.Create(arch, Fp32);
        // Windows of 4 over a capacity of 23 (not a multiple of 4): steps at positions 5..22 cross four window
        // boundaries and end in the short last window.
        using var decoder = new GreedyDecoder(model, 23, CudaGraphMode.Off, windowTokens: 4);
        AssertEagerTokens(decoder, path, randint(0, arch.VocabularySize, [1, 5], generator: new Generator(3)), 19);
    }

    [TorchTheory]
    [InlineData("gpt", 0, Static)]
    [InlineData("gpt", 1, Static)]
    [InlineData("llama", 1, Static)]
    [InlineData("gpt", 0, Fused)]
    [InlineData("bloom", 1, Fused)]
    [InlineData("llama", 1, Fused)]
    [InlineData("gpt-odd-ffn", 0, Static)]
    [InlineData("llama-odd-ffn", 1, Fused)]
    [InlineData("gated-bias-odd-ffn", 0, Fused)]
    [InlineData("llama-hd32", 1, Fused)]
    [InlineData("gpt-hd64", 0, Fused)]
    public void A_tensor_parallel_rank_gives_its_eager_tokens(string name, int rank, string path)
    {
        // Rank 0 adds the row-parallel biases (in the fused sequence, inside the next norm), the others do not.
        var arch = TinyArchitectures.ByName(name);
        using var model = DecoderTransformer.CreateShard(arch, ModelShard.TensorParallel(2, rank), Fp32);
        using var decoder = new GreedyDecoder(model, 20, CudaGraphMode.Off, windowTokens: 8);
        AssertEagerTokens(decoder, path, randint(0, arch.VocabularySize, [1, 4], generator: new Generator(2)), 15);
    }

    [TorchFact]
    public void Stale_cache_rows_from_a_longer_earlier_query_are_masked_out()
    {
        var arch = TinyArchitectures.Bloom;
        using var model = DecoderTransformer.Create(arch, Fp32);
        using var decoder = new GreedyDecoder(model, 30, CudaGraphMode.Off, windowTokens: 16);
        using var longPrompt = randint(0, arch.VocabularySize, [1, 12], generator: new Generator(8));
        decoder.GenerateStaticShapes(longPrompt, 18).Dispose();

        // A shorter query now shares its window with rows 3..29 left over from the first one.
        using var prompt = randint(0, arch.VocabularySize, [1, 3], generator: new Generator(9));
        using var stat = decoder.GenerateStaticShapes(prompt, 9);
        using var fresh = new GreedyDecoder(model, 30, CudaGraphMode.Off);
        using var eager = fresh.Generate(prompt, 9);
        Assert.Equal(eager.data<long>().ToArray(), stat.data<long>().ToArray());
    }

    [TorchTheory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public void A_pipeline_stage_gives_its_eager_tokens(int stage)
    {
        var arch = TinyArchitectures.Llama with { Layers = 3 };
        using var model = DecoderTransformer.CreateShard(arch, new ModelShard { TensorParallelDegree = 2, PipelineStages = 3, PipelineStage = stage }, Fp32);
        using var decoder = new GreedyDecoder(model, 16, CudaGraphMode.Off, windowTokens: 8);
        using var prompt = randint(0, arch.VocabularySize, [1, 4], generator: new Generator(1));
        using var eager = decoder.Generate(prompt, 10);
        using var stat = decoder.GenerateStaticShapes(prompt, 10);
        Assert.Equal(eager.data<long>().ToArray(), stat.data<long>().ToArray());
    }

    [TorchFact]
    public void Graph_modes_on_the_cpu_fall_back_or_fail_with_the_reason()
    {
        using var model = DecoderTransformer.Create(TinyArchitectures.Gpt, Fp32);
        using (var auto = new GreedyDecoder(model, 8))
        {
            Assert.False(auto.UsesCudaGraphs);
            Assert.Equal(GreedyDecoder.DefaultWindowTokens, auto.WindowTokens);
        }

        var e = Assert.Throws<NotSupportedException>(() => new GreedyDecoder(model, 8, CudaGraphMode.Required));
        Assert.Contains("CUDA device", e.Message, StringComparison.Ordinal);
        Assert.Contains("CudaGraphMode.Auto", e.Message, StringComparison.Ordinal);
        var bad = Assert.Throws<ArgumentOutOfRangeException>(() => new GreedyDecoder(model, 8, (CudaGraphMode)7));
        Assert.Equal("cudaGraphs", bad.ParamName);
    }

    [TorchFact]
    public void Cuda_graph_entry_points_are_not_bound_without_cuda()
    {
        if (cuda.is_available())
        {
            Assert.Skip("CUDA is available here; the GPU run checks the binding (CudaTests).");
        }

        // The CPU backend has no libtorch_cuda.so: the binding reports itself unavailable rather than failing later.
        Assert.False(CudaGraph.IsAvailable);
        Assert.Contains("libtorch_cuda.so", CudaGraph.UnavailableReason, StringComparison.Ordinal);
    }

    [TorchFact]
    public void The_run_time_kernel_compiler_says_why_it_is_unavailable()
    {
        var (compiler, reason) = CudaRuntimeCompiler.Load();
        if (compiler is not null)
        {
            Assert.Skip("NVRTC and the CUDA driver are present here; the GPU run checks the kernels (--kernel-check).");
        }

        // No driver or no NVRTC on a CPU machine: a reason that names what is missing and how to point at NVRTC.
        Assert.NotNull(reason);
        Assert.Matches("libcuda|NVRTC|Linux", reason);
    }

    [TorchFact]
    public void Attention_kernel_is_ruled_out_with_the_reason_where_it_would_attend_wrongly()
    {
        using var alibi = DecoderTransformer.Create(TinyArchitectures.Bloom with { HeadDim = 32 }, Fp32);
        Assert.Contains("ALiBi", GreedyDecoder.AttentionKernelUnsupportedReason(alibi, 20), StringComparison.Ordinal);
        var llama = TinyArchitectures.ByName("llama-hd32");
        using var windowed = DecoderTransformer.Create(llama with { SlidingWindowTokens = 6 }, Fp32);
        Assert.Contains("sliding window", GreedyDecoder.AttentionKernelUnsupportedReason(windowed, 20), StringComparison.Ordinal);
        Assert.Null(GreedyDecoder.AttentionKernelUnsupportedReason(windowed, 6)); // the window never hides a position of this cache
        using var small = DecoderTransformer.Create(TinyArchitectures.Llama, Fp32);
        Assert.Contains("multiples of 32", GreedyDecoder.AttentionKernelUnsupportedReason(small, 20), StringComparison.Ordinal);
    }

    [TorchFact]
    public void Only_stages_with_the_head_have_the_fused_step()
    {
        var arch = TinyArchitectures.Llama with { Layers = 2 };
        using var first = DecoderTransformer.CreateShard(arch, new ModelShard { PipelineStages = 2, PipelineStage = 0 }, Fp32);
        using var decoder = new GreedyDecoder(first, 8, CudaGraphMode.Off);
        using var prompt = zeros([1, 2], ScalarType.Int64);
        Assert.False(decoder.UsesFusedKernels);
        Assert.Throws<NotSupportedException>(() => decoder.GenerateFusedReference(prompt, 3));
    }

    /// <summary>
    /// The path's tokens (the static step, or the fused sequence with the kernels' reference functions, each as graphs
    /// would replay it) equal the eager decoder's.
    /// </summary>
    private static void AssertEagerTokens(GreedyDecoder decoder, string path, Tensor prompt, int outputTokens)
    {
        using (prompt)
        {
            using var eager = decoder.Generate(prompt, outputTokens);
            using var got = path == Fused ? decoder.GenerateFusedReference(prompt, outputTokens) : decoder.GenerateStaticShapes(prompt, outputTokens);
            Assert.Equal(new long[] { 1, outputTokens }, got.shape);
            Assert.Equal(eager.data<long>().ToArray(), got.data<long>().ToArray());
        }
    }

    [TorchFact]
    public void Prefill_graphs_are_off_where_decode_steps_are_not_captured_and_prepare_checks_the_prompt()
    {
        using var model = DecoderTransformer.Create(TinyArchitectures.Llama, Fp32);
        using var decoder = new GreedyDecoder(model, 23, CudaGraphMode.Off, windowTokens: 4, prefillGraphMaxTokens: 16);
        Assert.Equal(0, decoder.PrefillGraphMaxTokens);
        decoder.PreparePrefill(5);
        Assert.Empty(decoder.CapturedPrefillSizes);
        Assert.Throws<ArgumentOutOfRangeException>(() => decoder.PreparePrefill(0));
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => decoder.PreparePrefill(24));
        Assert.Contains("larger capacity", ex.Message, StringComparison.Ordinal);
        Assert.Contains("CUDA-graph prefill up to 512 tokens", TorchProfiler.DescribeSoftware(ModelPrecision.BFloat16, cudaGraphs: true, fusedKernels: false, attention: null, expertKernels: false, prefillGraphMaxTokens: 512), StringComparison.Ordinal);
        Assert.DoesNotContain("prefill", TorchProfiler.DescribeSoftware(ModelPrecision.BFloat16, cudaGraphs: false, fusedKernels: false, attention: null, expertKernels: false), StringComparison.Ordinal);
    }
}
