using System.Runtime.CompilerServices;

namespace LlmEff.Tests.Shared;

/// <summary>
/// A <c>[Fact]</c> that needs libtorch: it skips with the loader's reason where libtorch cannot be loaded (a fresh machine
/// whose libstdc++ is too old for TorchSharp's native library, or no native package), instead of failing.
/// </summary>
public sealed class TorchFactAttribute : FactAttribute
{
    /// <summary>Creates the attribute; the caller's file and line are xunit's source information.</summary>
    public TorchFactAttribute([CallerFilePath] string? sourceFilePath = null, [CallerLineNumber] int sourceLineNumber = -1)
        : base(sourceFilePath, sourceLineNumber)
    {
        SkipUnless = nameof(LibTorchAvailability.IsAvailable);
        SkipType = typeof(LibTorchAvailability);
        Skip = LibTorchAvailability.SkipMessage;
    }
}
