using System.Diagnostics;
using System.IO.Compression;
using System.Text;
using System.Xml.Linq;

namespace LlmEff.Packages.Tests;

// The libraries as a user gets them: packed with `dotnet pack` into a temporary folder feed, then a fresh console
// program (Consumer/) that references only those packages is restored, built and run against it. This catches what
// project references hide: a missing dependency in a .nuspec, a data file left out of a package, a public type that
// is internal, a package README not packed. The packages get a unique prerelease version per run so NuGet's global
// packages folder never hands back an older build; that version's folders are removed from it afterwards. Transitive
// packages come from the repository's own NuGet sources (nuget.config), normally already in the global folder.
public sealed class PackedPackagesTests
{
    /// <summary>The libraries packed and consumed (each has its own README.md packed as the package readme).</summary>
    public static readonly string[] Libraries = ["LlmEff.Core", "LlmEff.Extensions.AI", "LlmEff.Profiling.Api", "LlmEff.Profiling.Torch"];

    /// <summary>Checks Consumer/Program.cs must report as passed; it may run more.</summary>
    public static readonly string[] ExpectedChecks = ["fit", "paper-table3", "catalog", "energy", "readme-quick-start", "extensions-ai", "extensions-ai-h100", "profiling-api", "profiling-torch"];

    private static readonly TimeSpan CommandTimeout = TimeSpan.FromMinutes(10);

    [Fact(Timeout = 1_800_000)]
    public async Task PackedLibraries_RestoreBuildAndRunInAFreshConsumer()
    {
        string? root = FindRepositoryRoot();
        if (root is null)
        {
            Assert.Skip("the repository (src/ and LlmEff.sln) is not above the test binaries, so there is nothing to pack");
        }

        string? dotnet = FindDotnet();
        if (dotnet is null)
        {
            Assert.Skip("the dotnet CLI is neither DOTNET_HOST_PATH nor on PATH");
        }

        string version = $"0.0.0-packagetest.{DateTime.UtcNow:yyyyMMddHHmmss}.{Environment.ProcessId}";
        string work = Directory.CreateTempSubdirectory("llmeff-packages-").FullName;
        string feed = Path.Combine(work, "feed");
        var ct = TestContext.Current.CancellationToken;
        try
        {
            // 1. Pack the libraries (one build through a solution filter; up to date after the solution's own build).
            string filter = Path.Combine(work, "libraries.slnf");
            WriteSolutionFilter(filter, Path.Combine(root!, "LlmEff.sln"));
            await RunAsync(dotnet!, ["restore", filter], root!, ct);
            await RunAsync(dotnet!, ["pack", filter, "-c", "Release", "--no-restore", "-o", feed, $"-p:PackageVersion={version}"], root!, ct);
            foreach (string library in Libraries)
            {
                AssertPackage(Path.Combine(feed, $"{library}.{version}.nupkg"), library, version);
            }

            // 2. A consumer outside the repository (no Directory.Build.props, central versions or analyzers of ours).
            string consumer = Path.Combine(work, "consumer");
            Directory.CreateDirectory(consumer);
            string template = Path.Combine(root!, "tests", "LlmEff.Packages.Tests", "Consumer");
            File.Copy(Path.Combine(template, "PackageConsumer.csproj.in"), Path.Combine(consumer, "PackageConsumer.csproj"));
            foreach (string source in Directory.EnumerateFiles(template, "*.cs"))
            {
                File.Copy(source, Path.Combine(consumer, Path.GetFileName(source)));
            }

            File.WriteAllText(Path.Combine(consumer, "Directory.Build.props"),
                $"<Project>\n  <PropertyGroup>\n    <LlmEffPackageVersion>{version}</LlmEffPackageVersion>\n  </PropertyGroup>\n</Project>\n");
            File.WriteAllText(Path.Combine(consumer, "Directory.Build.targets"), "<Project />\n");
            File.WriteAllText(Path.Combine(consumer, "Directory.Packages.props"), "<Project>\n  <PropertyGroup>\n    <ManagePackageVersionsCentrally>false</ManagePackageVersionsCentrally>\n  </PropertyGroup>\n</Project>\n");
            WriteNuGetConfig(Path.Combine(consumer, "nuget.config"), feed, Path.Combine(root!, "nuget.config"));

            // 3. Restore and build it against the feed, then run it.
            await RunAsync(dotnet!, ["build", "PackageConsumer.csproj", "-c", "Release"], consumer, ct);
            string output = await RunAsync(dotnet!, [Path.Combine(consumer, "bin", "Release", "net10.0", "PackageConsumer.dll")], consumer, ct);

            Assert.DoesNotContain("FAIL ", output, StringComparison.Ordinal);
            foreach (string check in ExpectedChecks)
            {
                Assert.Contains($"PASS {check}:", output, StringComparison.Ordinal);
            }

            Assert.Contains("checks: ", output, StringComparison.Ordinal);
            Assert.Contains(" ok, 0 failed", output, StringComparison.Ordinal);
            TestContext.Current.TestOutputHelper?.WriteLine(output);
        }
        finally
        {
            TryDelete(work);
            string packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } p
                ? p
                : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
            foreach (string library in Libraries)
            {
                string id = Path.Combine(packages, library.ToLowerInvariant());
                TryDelete(Path.Combine(id, version));
                if (Directory.Exists(id) && !Directory.EnumerateFileSystemEntries(id).Any())
                {
                    TryDelete(id);
                }
            }
        }
    }

    // The package: the right id and version, its own README, the library for both target frameworks, and its sibling
    // libraries as package dependencies of the same version (project references become those).
    private static void AssertPackage(string path, string id, string version)
    {
        Assert.True(File.Exists(path), $"{path} was not packed");
        using ZipArchive zip = ZipFile.OpenRead(path);
        ZipArchiveEntry nuspecEntry = zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal));
        XDocument nuspec;
        using (Stream s = nuspecEntry.Open())
        {
            nuspec = XDocument.Load(s);
        }

        string? Element(string name) => nuspec.Descendants().FirstOrDefault(e => e.Name.LocalName == name)?.Value;
        Assert.Equal(id, Element("id"));
        Assert.Equal(version, Element("version"));
        Assert.Equal("README.md", Element("readme"));
        Assert.False(string.IsNullOrWhiteSpace(Element("description")));
        using (var reader = new StreamReader(zip.GetEntry("README.md")!.Open()))
        {
            string readme = reader.ReadToEnd();
            Assert.Contains($"dotnet add package {id}", readme, StringComparison.Ordinal);
        }

        foreach (string tfm in new[] { "net8.0", "net10.0" })
        {
            Assert.NotNull(zip.GetEntry($"lib/{tfm}/{id}.dll"));
            Assert.NotNull(zip.GetEntry($"lib/{tfm}/{id}.xml"));
        }

        foreach (XElement dependency in nuspec.Descendants().Where(e => e.Name.LocalName == "dependency"))
        {
            string depId = (string)dependency.Attribute("id")!;
            if (depId.StartsWith("LlmEff.", StringComparison.Ordinal))
            {
                Assert.Equal(version, (string?)dependency.Attribute("version"));
            }
        }
    }

    private static void WriteSolutionFilter(string path, string solution)
    {
        var sb = new StringBuilder();
        sb.Append("{\n  \"solution\": {\n    \"path\": \"").Append(solution.Replace("\\", "\\\\", StringComparison.Ordinal)).Append("\",\n    \"projects\": [\n");
        sb.Append(string.Join(",\n", Libraries.Select(l => $"      \"src\\\\{l}\\\\{l}.csproj\"")));
        sb.Append("\n    ]\n  }\n}\n");
        File.WriteAllText(path, sb.ToString());
    }

    // The packed feed first, then the repository's own package sources (its nuget.config: nuget.org or a mirror).
    private static void WriteNuGetConfig(string path, string feed, string repositoryConfig)
    {
        var sources = new List<XElement> { new("add", new XAttribute("key", "llmeff-packed"), new XAttribute("value", feed)) };
        if (File.Exists(repositoryConfig))
        {
            XElement? repoSources = XDocument.Load(repositoryConfig).Root?.Element("packageSources");
            if (repoSources is not null)
            {
                sources.AddRange(repoSources.Elements("add").Select(e => new XElement(e)));
            }
        }

        var config = new XDocument(new XElement("configuration",
            new XElement("packageSources", new XElement("clear"), sources)));
        config.Save(path);
    }

    private static async Task<string> RunAsync(string dotnet, string[] arguments, string workingDirectory, CancellationToken ct)
    {
        var start = new ProcessStartInfo(dotnet)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        if (arguments[0] is "restore" or "pack" or "build")
        {
            // No MSBuild node or compiler server may outlive the command (they would hold its output pipes open).
            start.ArgumentList.Add("-nodeReuse:false");
            start.ArgumentList.Add("-p:UseSharedCompilation=false");
        }

        // The test host's MSBuild variables (set by `dotnet test`) must not leak into the child builds.
        foreach (string name in new[] { "MSBuildExtensionsPath", "MSBuildSDKsPath", "MSBUILD_EXE_PATH", "MSBuildLoadMicrosoftTargetsReadOnly", "MSBUILDNOINPROCNODE" })
        {
            start.Environment.Remove(name);
        }

        start.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        start.Environment["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0";
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";

        var output = new StringBuilder();
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (output) { output.AppendLine(e.Data); } } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (output) { output.AppendLine(e.Data); } } };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(CommandTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"`dotnet {string.Join(' ', arguments)}` did not finish in {CommandTimeout}:\n{Tail(output)}");
        }

        string text;
        lock (output)
        {
            text = output.ToString();
        }

        Assert.True(process.ExitCode == 0, $"`dotnet {string.Join(' ', arguments)}` in {workingDirectory} exited {process.ExitCode}:\n{Tail(text)}");
        return text;
    }

    private static string Tail(object text)
    {
        string s = text.ToString()!;
        return s.Length <= 8000 ? s : "..." + s[^8000..];
    }

    private static string? FindRepositoryRoot()
    {
        string? dir = AppContext.BaseDirectory;
        while (dir is not null && !(File.Exists(Path.Combine(dir, "LlmEff.sln")) && File.Exists(Path.Combine(dir, "src", "LlmEff.Core", "LlmEff.Core.csproj"))))
        {
            dir = Path.GetDirectoryName(dir);
        }

        return dir;
    }

    private static string? FindDotnet()
    {
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host))
        {
            return host;
        }

        string exe = OperatingSystem.IsWindows() ? "dotnet.exe" : "dotnet";
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate = Path.Combine(dir, exe);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    private static void TryDelete(string directory)
    {
        try
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
