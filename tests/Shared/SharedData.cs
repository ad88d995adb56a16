namespace LlmEff.Tests.Shared;

/// <summary>Locates the authors' public measurements in ../shared/data (never copied into the repo).</summary>
internal static class SharedData
{
    private static readonly Lazy<string?> Root = new(() =>
    {
        var env = Environment.GetEnvironmentVariable("LLMEFF_SHARED_DATA");
        if (!string.IsNullOrEmpty(env) && Directory.Exists(env))
        {
            return env;
        }

        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "shared", "data");
            if (Directory.Exists(Path.Combine(candidate, "megatron")))
            {
                return candidate;
            }
        }

        return null;
    });

    /// <summary>Full path of a file under shared/data, or null when the folder is absent.</summary>
    public static string? Find(string relativePath)
    {
        if (Root.Value is null)
        {
            return null;
        }

        var path = Path.Combine(Root.Value, relativePath);
        return File.Exists(path) ? path : null;
    }

    /// <summary>Skips the calling test (xunit v3 dynamic skip) when the file is absent.</summary>
    public static string Require(string relativePath)
    {
        var path = Find(relativePath);
        if (path is null)
        {
            Assert.Skip($"shared data '{relativePath}' is not available (set LLMEFF_SHARED_DATA or place the repo beside shared/).");
        }

        return path!;
    }
}
