using System.Xml.Linq;

namespace LlmEff.Cli.Tests;

public class PackagingTests
{
    // `dotnet pack src/LlmEff.Cli` must produce a .NET tool named llmeff that plots headless on Linux; packing itself
    // takes too long for this project's test budget, so the project file's settings are checked here and the pack +
    // `dotnet tool install` round trip is documented in docs/getting-started.md.
    [Fact]
    public void CliProject_PacksAsTheLlmeffToolWithHeadlessSkia()
    {
        string? dir = AppContext.BaseDirectory;
        while (dir is not null && !File.Exists(Path.Combine(dir, "src", "LlmEff.Cli", "LlmEff.Cli.csproj")))
        {
            dir = Path.GetDirectoryName(dir);
        }

        if (dir is null)
        {
            Assert.Skip("the source tree is not beside the test binaries");
        }

        var project = XDocument.Load(Path.Combine(dir!, "src", "LlmEff.Cli", "LlmEff.Cli.csproj"));
        string? Property(string name) => project.Descendants(name).FirstOrDefault()?.Value;
        Assert.Equal("true", Property("PackAsTool"));
        Assert.Equal("llmeff", Property("ToolCommandName"));
        Assert.Equal("Exe", Property("OutputType"));
        Assert.Contains(project.Descendants("PackageReference"), r => (string?)r.Attribute("Include") == "SkiaSharp.NativeAssets.Linux.NoDependencies");
        Assert.Equal("llmeff", typeof(LlmEffCommand).Assembly.GetName().Name);
        // 'profile torch' needs the Torch profiler, but the tool must not ship a libtorch backend (GBs): users bring
        // PyTorch's libtorch through LD_LIBRARY_PATH (docs/gpu-profiling.md).
        Assert.Contains(project.Descendants("ProjectReference"), r => ((string?)r.Attribute("Include"))?.Contains("LlmEff.Profiling.Torch", StringComparison.Ordinal) == true);
        Assert.DoesNotContain(project.Descendants("PackageReference"), r => ((string?)r.Attribute("Include"))?.StartsWith("TorchSharp-", StringComparison.Ordinal) == true || ((string?)r.Attribute("Include"))?.StartsWith("libtorch", StringComparison.Ordinal) == true);
    }
}
