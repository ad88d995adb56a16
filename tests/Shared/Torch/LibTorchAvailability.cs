using TorchSharp;

namespace LlmEff.Tests.Shared;

/// <summary>
/// Loads libtorch's CPU backend once per test process and remembers whether that worked, so that tests needing it
/// skip with the loader's reason on a machine without libtorch instead of failing. Compiled only into the test
/// projects that reference TorchSharp.
/// </summary>
public static class LibTorchAvailability
{
    private static readonly Lazy<string?> LoadFailure = new(() =>
    {
        try
        {
            torch.InitializeDeviceType(DeviceType.CPU);
            return null;
        }
        catch (Exception ex) when (ex is DllNotFoundException or TypeInitializationException or NotSupportedException or InvalidOperationException or BadImageFormatException or EntryPointNotFoundException)
        {
            // The innermost message names the library the loader could not find.
            var inner = ex;
            while (inner.InnerException is not null)
            {
                inner = inner.InnerException;
            }

            // TorchSharp appends its whole probing trace; the first sentence says what is missing.
            var message = inner.Message.ReplaceLineEndings(" ");
            var end = message.IndexOf(". ", StringComparison.Ordinal);
            return end > 0 ? message[..(end + 1)] : message;
        }
    }, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>True when libtorch's CPU backend is loaded in this process.</summary>
    public static bool IsAvailable => LoadFailure.Value is null;

    /// <summary>Why libtorch could not be loaded; null when it was.</summary>
    public static string? UnavailableReason => LoadFailure.Value;

    /// <summary>The skip message of a test that needs libtorch, with the loader's reason where it could not be loaded.</summary>
    public static string SkipMessage => $"libtorch could not be loaded, so this test cannot run here: {LoadFailure.Value ?? "(it loaded)"} (restore TorchSharp-cpu's native package, or put a PyTorch install's torch/lib on LD_LIBRARY_PATH).";

    /// <summary>Skips the calling test (xunit v3 dynamic skip) when libtorch cannot be loaded here.</summary>
    public static void Require()
    {
        if (LoadFailure.Value is { } reason)
        {
            Assert.Skip(SkipMessage);
        }
    }
}
