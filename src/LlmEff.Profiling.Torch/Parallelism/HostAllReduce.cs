using TorchSharp;

namespace LlmEff.Profiling.Torch;

/// <summary>
/// All-reduce by plain tensor ops in the calling process: the partial sums are added on rank 0's device (in fp32, so the
/// order of ranks does not change the result beyond the final rounding) and copied back to every rank. It is the
/// reference the CPU correctness tests use in place of NCCL.
/// </summary>
public sealed class HostAllReduce : ITensorAllReduce
{
    /// <summary>Creates an all-reduce over <paramref name="ranks"/> ranks.</summary>
    /// <param name="ranks">Number of ranks, at least 1.</param>
    public HostAllReduce(int ranks)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(ranks, 1);
        Ranks = ranks;
    }

    /// <inheritdoc />
    public int Ranks { get; }

    /// <inheritdoc />
    public void SumInPlace(IReadOnlyList<torch.Tensor> perRank)
    {
        ArgumentNullException.ThrowIfNull(perRank);
        if (perRank.Count != Ranks)
        {
            throw new ArgumentException($"Expected one tensor per rank ({Ranks}), got {perRank.Count}; pass the ranks' tensors in rank order.", nameof(perRank));
        }

        if (Ranks == 1)
        {
            return;
        }

        using var scope = torch.NewDisposeScope();
        var first = perRank[0];
        var total = first.to(torch.ScalarType.Float32, copy: true);
        for (var r = 1; r < Ranks; r++)
        {
            if (!perRank[r].shape.SequenceEqual(first.shape) || perRank[r].dtype != first.dtype)
            {
                throw new ArgumentException(
                    $"Rank {r}'s tensor is {perRank[r].dtype}[{string.Join(", ", perRank[r].shape)}] but rank 0's is {first.dtype}[{string.Join(", ", first.shape)}]; every rank must pass the same shape and dtype.",
                    nameof(perRank));
            }

            total.add_(perRank[r].to(total.device).to(torch.ScalarType.Float32));
        }

        var result = total.to(first.dtype);
        foreach (var t in perRank)
        {
            t.copy_(result.to(t.device));
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
    }
}
