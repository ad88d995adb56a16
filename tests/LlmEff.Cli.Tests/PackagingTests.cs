using System.Xml.Linq;

namespace LlmEff.Cli.Tests;

public class PackagingTests
{
    // `dotnet pack src/LlmEff.Cli` must produce a .NET tool package named llmeff that plots headless on Linux; packing
    // the tool takes too long for this project's test budget, so the project file's settings are checked here and the
    // pack + `dotnet tool install` round trip is documented in docs/getting-started.md (the libraries' packages are
    // packed and consumed for real by tests/LlmEff.Packages.Tests).
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
        // `dotnet tool install -g llmeff`: the package id is the command's name.
        Assert.Equal("llmeff", Property("PackageId"));
        // The package carries the natives (SkiaSharp, HarfBuzzSharp, LibTorchSharp) of the supported platforms only
        // (84 MB with all 15, ~31 MB with these); 'osx' is Skia's universal macOS build.
        string[] runtimes = (Property("LlmEffToolRuntimes") ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal(["linux-arm64", "linux-x64", "osx", "osx-arm64", "osx-x64", "win-x64"], runtimes.Order(StringComparer.Ordinal));
        Assert.Contains(project.Descendants("Target"), t => (string?)t.Attribute("Name") == "LlmEffTrimToolRuntimes" && (string?)t.Attribute("AfterTargets") == "PackTool");
        Assert.True(File.Exists(Path.Combine(dir!, "src", "LlmEff.Cli", "README.md")), "the tool package's own README");
        Assert.Equal("Exe", Property("OutputType"));
        Assert.Contains(project.Descendants("PackageReference"), r => (string?)r.Attribute("Include") == "SkiaSharp.NativeAssets.Linux.NoDependencies");
        Assert.Equal("llmeff", typeof(LlmEffCommand).Assembly.GetName().Name);
        // 'profile torch' needs the Torch profiler, but the tool must not ship a libtorch backend (GBs): users bring
        // PyTorch's libtorch through LD_LIBRARY_PATH (docs/gpu-profiling.md).
        Assert.Contains(project.Descendants("ProjectReference"), r => ((string?)r.Attribute("Include"))?.Contains("LlmEff.Profiling.Torch", StringComparison.Ordinal) == true);
        Assert.DoesNotContain(project.Descendants("PackageReference"), r => ((string?)r.Attribute("Include"))?.StartsWith("TorchSharp-", StringComparison.Ordinal) == true || ((string?)r.Attribute("Include"))?.StartsWith("libtorch", StringComparison.Ordinal) == true);
    }
}
