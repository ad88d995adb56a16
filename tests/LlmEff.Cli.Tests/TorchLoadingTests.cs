using System.Reflection;
using System.Runtime.Loader;

namespace LlmEff.Cli.Tests;

public class TorchLoadingTests
{
    // The tool references TorchSharp (for 'profile torch') but must not load it for anything else: a user without
    // libtorch runs 'estimate' and friends. The tool is loaded into its own load context, so what it loads can be seen
    // apart from this test process (where other tests load TorchSharp).
    [Theory]
    [InlineData("estimate")]
    [InlineData("models")]
    [InlineData("profile", "torch", "--arch", "no-such-model", "--out", "unused")]
    public void OtherCommands_DoNotLoadTorchSharp(params string[] args)
    {
        var tool = Path.Combine(AppContext.BaseDirectory, "llmeff.dll");
        var context = new ToolLoadContext(tool);
        try
        {
            var entry = context.LoadFromAssemblyPath(tool).GetType("LlmEff.Cli.LlmEffCommand", throwOnError: true)!.GetMethod("Run", [typeof(string[]), typeof(TextWriter), typeof(TextWriter)])!;
            var output = new StringWriter();
            var error = new StringWriter();

            var code = (int)entry.Invoke(null, [args, output, error])!;

            Assert.Equal(args[0] == "profile" ? 1 : 0, code);
            Assert.Contains(context.Assemblies, a => a.GetName().Name == "llmeff");
            Assert.DoesNotContain(context.Assemblies, a => a.GetName().Name == "TorchSharp");
        }
        finally
        {
            context.Unload();
        }
    }

    [Fact]
    public void ProfileTorch_LoadsTorchSharp_SoTheCheckAboveCanSeeIt()
    {
        LlmEff.Tests.Shared.LibTorchAvailability.Require();
        using var dir = new TempDir();
        var arch = dir.File("tiny.json", """{"name": "tiny-gpt", "hidden_size": 32, "layers": 2, "heads": 4, "vocabulary_size": 97, "max_context_tokens": 64}""");
        var tool = Path.Combine(AppContext.BaseDirectory, "llmeff.dll");
        var context = new ToolLoadContext(tool);
        try
        {
            var entry = context.LoadFromAssemblyPath(tool).GetType("LlmEff.Cli.LlmEffCommand", throwOnError: true)!.GetMethod("Run", [typeof(string[]), typeof(TextWriter), typeof(TextWriter)])!;
            var error = new StringWriter();

            var code = (int)entry.Invoke(null, [new[] { "profile", "torch", "--arch-file", arch, "--device", "cpu", "--precision", "fp32", "--prompts", "1,4", "--outputs", "1,2", "--trials", "1", "--warmup", "0", "--out", dir.Path, "--keep-non-physical" }, new StringWriter(), error])!;

            Assert.True(code == 0, error.ToString());
            Assert.Contains(context.Assemblies, a => a.GetName().Name == "TorchSharp");
        }
        finally
        {
            context.Unload();
        }
    }

    private sealed class ToolLoadContext(string mainAssemblyPath) : AssemblyLoadContext(isCollectible: true)
    {
        private readonly AssemblyDependencyResolver _resolver = new(mainAssemblyPath);

        protected override Assembly? Load(AssemblyName assemblyName)
            => _resolver.ResolveAssemblyToPath(assemblyName) is { } path ? LoadFromAssemblyPath(path) : null;
    }
}
