using System.Text.RegularExpressions;
using static TorchSharp.torch;

namespace LlmEff.Profiling.Torch.Tests.Model;

/// <summary>
/// Every run-time compiled kernel set compiles for the H100/H200 (sm_90) in bf16 and fp32, and the engine's bf16 sets for
/// the A100 (sm_80), with NVRTC alone (no GPU, no driver), where NVRTC is installed (.ci/run installs Debian's): a kernel
/// that does not compile, or a pipelined attention kernel that spills, is found here rather than in a device call. Whether
/// the kernels compute the right values is the GPU harness's <c>--kernel-check</c>. Run alone (<see cref="NvrtcCompileCollection"/>).
/// </summary>
[Collection(nameof(NvrtcCompileCollection))]
public sealed partial class KernelCompileTests
{
    private static readonly ScalarType[] Types = [ScalarType.BFloat16, ScalarType.Float32];

    [Theory]
    [InlineData(256, 1)] // GPT-J
    [InlineData(128, 4)] // Llama-3-8B, Mistral
    [InlineData(128, 8)] // Qwen3-30B-A3B
    [InlineData(64, 8)]
    [InlineData(64, 16)]
    [InlineData(32, 8)]
    public void Decode_attention_compiles_in_every_form_that_serves_the_shape(int headDim, int groups)
    {
        SkipWithoutNvrtc();
        Assert.Null(DecodeAttention.UnsupportedReason(headDim, groups));
        foreach (var dtype in Types)
        {
            var forms = DecodeAttention.PipelinedUnsupportedReason(dtype, headDim, groups) is null
                ? new[] { AttentionKernelForm.WarpTiles, AttentionKernelForm.Pipelined }
                : [AttentionKernelForm.WarpTiles];
            foreach (var form in forms)
            {
                var kernels = Compile(dtype, DecodeAttention.SourceFor(headDim, groups, form), 90);
                if (form == AttentionKernelForm.Pipelined)
                {
                    // Nothing in local memory: its stages live in shared memory, its slices in registers.
                    Assert.Equal(0, kernels["decode_attention_pipe"].SpillBytes);
                }
            }
        }
    }

    [Fact]
    public void The_pipelined_attention_keeps_llamas_heads_in_128_registers_so_four_blocks_fit_an_sm()
    {
        SkipWithoutNvrtc();
        var kernels = Compile(ScalarType.BFloat16, DecodeAttention.SourceFor(128, 4, AttentionKernelForm.Pipelined), 90);
        Assert.InRange(kernels["decode_attention_pipe"].Registers, 1, 128);
    }

    [Fact]
    public void The_engines_bf16_kernels_compile_for_the_a100()
    {
        SkipWithoutNvrtc();
        Compile(ScalarType.BFloat16, DecodeAttention.SourceFor(128, 4, AttentionKernelForm.Pipelined), 80);
        Compile(ScalarType.BFloat16, DecodeAttention.SourceFor(128, 8, AttentionKernelForm.WarpTiles), 80);
        Compile(ScalarType.BFloat16, DecodeKernels.SourceFor(WeightPrefetch.Off), 80);
        Compile(ScalarType.BFloat16, MixtureOfExpertsKernels.SourceOf, 80);
    }

    [Fact]
    public void The_engines_bf16_kernels_compile_for_dependent_launches_on_sm_90()
    {
        SkipWithoutNvrtc();
        var pipelined = Compile(ScalarType.BFloat16, DecodeAttention.SourceFor(128, 4, AttentionKernelForm.Pipelined), 90, dependentLaunches: true);
        Assert.InRange(pipelined["decode_attention_pipe"].Registers, 1, 128);
        Assert.Equal(0, pipelined["decode_attention_pipe"].SpillBytes);
        Compile(ScalarType.BFloat16, DecodeAttention.SourceFor(128, 8, AttentionKernelForm.WarpTiles), 90, dependentLaunches: true);
        Compile(ScalarType.BFloat16, DecodeKernels.SourceFor(WeightPrefetch.Off), 90, dependentLaunches: true);
        // The expert kernels hold their pieces loaded ahead of the wait in registers, not in local memory.
        var experts = Compile(ScalarType.BFloat16, MixtureOfExpertsKernels.SourceOf, 90, dependentLaunches: true);
        Assert.All(experts.Values, k => Assert.Equal(0, k.SpillBytes));
    }

    [Fact]
    public void The_warp_tile_variants_compile()
    {
        SkipWithoutNvrtc();
        for (var variant = 0; variant < DecodeAttention.Variants.Length; variant++)
        {
            Compile(ScalarType.BFloat16, DecodeAttention.SourceFor(128, 4, AttentionKernelForm.WarpTiles, variant), 90);
        }
    }

    [Fact]
    public void The_fused_decode_kernels_compile_in_every_prefetch_mode()
    {
        SkipWithoutNvrtc();
        foreach (var mode in Enum.GetValues<WeightPrefetch>())
        {
            // The bulk L2 prefetch is PTX 8.0 (CUDA 12); an older NVRTC cannot emit it.
            if (mode == WeightPrefetch.RotaryBulk && OfflineNvrtc.Version < 120)
            {
                continue;
            }

            foreach (var dtype in Types)
            {
                Compile(dtype, DecodeKernels.SourceFor(mode), 90);
            }
        }
    }

    [Fact]
    public void The_mixture_kernels_compile()
    {
        SkipWithoutNvrtc();
        foreach (var dtype in Types)
        {
            Compile(dtype, MixtureOfExpertsKernels.SourceOf, 90);
        }
    }

    [Fact]
    public void A_program_that_does_not_compile_gives_the_log_and_no_cubin()
    {
        SkipWithoutNvrtc();
        var (compiled, log, cubin) = OfflineNvrtc.Compile("extern \"C\" __global__ void k(float* x) { x[0] = undeclared; }", "bad.cu", 90);
        Assert.False(compiled);
        Assert.Null(cubin);
        Assert.Contains("undeclared", log, StringComparison.Ordinal);
    }

    private static void SkipWithoutNvrtc()
    {
        if (!OfflineNvrtc.IsAvailable)
        {
            Assert.Skip("NVRTC (libnvrtc.so) is not installed here; .ci/run installs Debian's libnvrtc11.2, or set LLMEFF_NVRTC.");
        }
    }

    /// <summary>Compiles and asserts success; each kernel's registers and bytes spilled to local memory, from ptxas's report.</summary>
    private static Dictionary<string, (int Registers, int SpillBytes)> Compile(ScalarType dtype, KernelSource source, int architecture, bool dependentLaunches = false)
    {
        var (compiled, log, cubin) = OfflineNvrtc.Compile(RuntimeKernels.Text(dtype, source, dependentLaunches), "test.cu", architecture);
        Assert.True(compiled, $"{source.What} ({dtype}, sm_{architecture}) did not compile:\n{log}");
        // What the run-time compiler hands cuModuleLoadData: an ELF image.
        Assert.NotNull(cubin);
        Assert.Equal("\u007fELF"u8.ToArray(), cubin[..4]);
        var kernels = new Dictionary<string, (int, int)>();
        string? current = null;
        var spill = 0;
        foreach (var line in log.Split('\n'))
        {
            if (EntryPattern().Match(line) is { Success: true } entry)
            {
                current = entry.Groups[1].Value;
            }
            else if (SpillPattern().Match(line) is { Success: true } s)
            {
                spill = int.Parse(s.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            }
            else if (current is not null && RegistersPattern().Match(line) is { Success: true } r)
            {
                kernels[current] = (int.Parse(r.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), spill);
                current = null;
            }
        }

        foreach (var name in source.Kernels)
        {
            Assert.True(kernels.ContainsKey(name), $"ptxas reported no kernel '{name}' for {source.What}:\n{log}");
        }

        return kernels;
    }

    [GeneratedRegex(@"Compiling entry function '(\w+)'")]
    private static partial Regex EntryPattern();

    [GeneratedRegex(@"(\d+) bytes spill stores")]
    private static partial Regex SpillPattern();

    [GeneratedRegex(@"Used (\d+) registers")]
    private static partial Regex RegistersPattern();
}
