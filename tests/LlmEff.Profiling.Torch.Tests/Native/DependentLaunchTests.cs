using System.Runtime.InteropServices;
using System.Text.RegularExpressions;

namespace LlmEff.Profiling.Torch.Tests.Native;

/// <summary>
/// Programmatic dependent launches are only safe when every kernel waits for its predecessor before it touches memory,
/// and the driver reads the launch structures as cuda.h lays them out; both are checked here without a GPU.
/// </summary>
public sealed partial class DependentLaunchTests
{
    public static TheoryData<string> Sources() =>
    [
        nameof(DecodeKernels),
        nameof(MixtureOfExpertsKernels),
        nameof(AttentionKernelForm.WarpTiles),
        nameof(AttentionKernelForm.Pipelined),
    ];

    [Theory]
    [MemberData(nameof(Sources))]
    public void Every_kernel_waits_for_the_kernel_before_it_before_reading_or_writing(string set)
    {
        var source = set switch
        {
            nameof(DecodeKernels) => DecodeKernels.SourceFor(WeightPrefetch.Rotary),
            nameof(MixtureOfExpertsKernels) => MixtureOfExpertsKernels.SourceOf,
            _ => DecodeAttention.SourceFor(128, 4, Enum.Parse<AttentionKernelForm>(set)),
        };
        var text = source.Source;
        var kernels = KernelPattern().Matches(text);
        Assert.Equal(source.Kernels.Length, kernels.Count);
        foreach (Match kernel in kernels)
        {
            // Up to the first wait a kernel may read what the kernel before it does not write (weights, the position, older
            // cache rows: each such read says why in a comment) but must store nothing, not even to shared memory.
            var body = text[(kernel.Index + kernel.Length)..];
            var next = body.IndexOf("extern \"C\"", StringComparison.Ordinal);
            body = next < 0 ? body : body[..next];
            var wait = body.IndexOf("GRID_DEPENDENCY();", StringComparison.Ordinal);
            Assert.True(wait >= 0, $"{kernel.Groups[1].Value} never calls GRID_DEPENDENCY()");
            var before = string.Join('\n', body[..wait].Split('\n').Where(l => !l.TrimStart().StartsWith("//", StringComparison.Ordinal)));
            var registers = before.Split('\n').Where(l => !l.Contains("__shared__", StringComparison.Ordinal))
                .SelectMany(l => LocalArrayPattern().Matches(l).Select(m => m.Groups[1].Value)).ToHashSet();
            foreach (Match store in StorePattern().Matches(before))
            {
                Assert.True(
                    store.Groups[1].Success && registers.Contains(store.Groups[1].Value),
                    $"{kernel.Groups[1].Value} stores '{store.Value}' before GRID_DEPENDENCY() (only its own register arrays may be written there)");
            }
        }
    }

    [Fact]
    public void Only_a_program_built_for_dependent_launches_waits_and_only_on_sm_90()
    {
        var built = RuntimeKernels.Text(TorchSharp.torch.ScalarType.BFloat16, MixtureOfExpertsKernels.SourceOf, dependentLaunches: true);
        var plain = RuntimeKernels.Text(TorchSharp.torch.ScalarType.BFloat16, MixtureOfExpertsKernels.SourceOf, dependentLaunches: false);
        Assert.StartsWith("#define LLMEFF_DEPENDENT_LAUNCH 1\n", built, StringComparison.Ordinal);
        Assert.DoesNotContain("#define LLMEFF_DEPENDENT_LAUNCH", plain, StringComparison.Ordinal);
        Assert.Equal(plain, RuntimeKernels.Text(TorchSharp.torch.ScalarType.BFloat16, MixtureOfExpertsKernels.SourceOf));
        Assert.Contains("#if defined(LLMEFF_DEPENDENT_LAUNCH) && defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900", plain, StringComparison.Ordinal);
        Assert.True(plain.IndexOf("#define GRID_DEPENDENCY", StringComparison.Ordinal) < plain.IndexOf("GRID_DEPENDENCY();", StringComparison.Ordinal));
    }

    [Fact]
    public void Launch_structures_match_cudas_x86_64_layout()
    {
        Assert.Equal(56, Marshal.SizeOf<CudaRuntimeCompiler.LaunchConfig>());
        Assert.Equal(32, (int)Marshal.OffsetOf<CudaRuntimeCompiler.LaunchConfig>(nameof(CudaRuntimeCompiler.LaunchConfig.Stream)));
        Assert.Equal(40, (int)Marshal.OffsetOf<CudaRuntimeCompiler.LaunchConfig>(nameof(CudaRuntimeCompiler.LaunchConfig.Attributes)));
        Assert.Equal(48, (int)Marshal.OffsetOf<CudaRuntimeCompiler.LaunchConfig>(nameof(CudaRuntimeCompiler.LaunchConfig.AttributeCount)));
        Assert.Equal(72, Marshal.SizeOf<CudaRuntimeCompiler.LaunchAttribute>());
        Assert.Equal(8, (int)Marshal.OffsetOf<CudaRuntimeCompiler.LaunchAttribute>(nameof(CudaRuntimeCompiler.LaunchAttribute.Value)));
    }

    [Fact]
    public void Dependent_launches_are_on_unless_a_process_turns_them_off()
    {
        Assert.True(CudaRuntimeCompiler.DependentLaunches);
    }

    // An assignment through an index ("x[i] =", "x[i] +=", group 1 the array) or a dereference ("*p ="), not a comparison.
    [GeneratedRegex(@"(?:\b(\w+)\[[^\]]*\]|\*\w+)\s*[-+*/|&]?=(?!=)")]
    private static partial Regex StorePattern();

    // A local array's declaration with a constant size ("V g0[PRE], u0[PRE];"): registers, not memory other kernels see.
    [GeneratedRegex(@"\b(\w+)\[[A-Z0-9_]+\]\s*[,;]")]
    private static partial Regex LocalArrayPattern();

    [GeneratedRegex(@"extern ""C"" __global__ void (?:__launch_bounds__\([^)]*\) )?(\w+)\([^)]*\) \{")]
    private static partial Regex KernelPattern();
}
