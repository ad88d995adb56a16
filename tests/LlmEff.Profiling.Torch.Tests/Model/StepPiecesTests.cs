using static TorchSharp.torch;

namespace LlmEff.Profiling.Torch.Tests.Model;

/// <summary>
/// The bookkeeping behind timing a step's pieces alone (the timing itself needs CUDA graphs and runs in the GPU harness):
/// a piece left out hands its consumers the output it gave in the full step.
/// </summary>
public sealed class StepPiecesTests
{
    [TorchFact]
    public void A_left_out_piece_hands_on_its_output_from_the_full_step()
    {
        using var pieces = new StepPieces();
        var calls = 0;
        Tensor Produce() => full([2], ++calls, ScalarType.Float32);

        // The full step runs every piece and keeps each producer's first output.
        Assert.True(pieces.Runs("norm"));
        using (var first = pieces.Output("qkv", Produce))
        {
            Assert.Equal(1f, first[0].item<float>());
        }

        Assert.Equal(["norm", "qkv"], pieces.Seen);

        // Another piece singled out: qkv does not run and its consumers get the kept output.
        pieces.RunOnly("norm");
        Assert.True(pieces.Runs("norm"));
        Assert.False(pieces.Runs("qkv"));
        var standIn = pieces.Output("qkv", Produce);
        Assert.Equal(1, calls);
        Assert.Equal(1f, standIn[0].item<float>());

        // None singled out runs nothing; a producer never seen in a full step has nothing to hand on.
        pieces.RunOnly(string.Empty);
        Assert.False(pieces.Runs("norm"));
        var missing = Assert.Throws<InvalidOperationException>(() => pieces.Output("router", Produce));
        Assert.Contains("router", missing.Message, StringComparison.Ordinal);
        Assert.Equal(["norm", "qkv"], pieces.Seen);
    }
}
