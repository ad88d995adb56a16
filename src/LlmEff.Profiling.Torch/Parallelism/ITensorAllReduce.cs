using TorchSharp;

namespace LlmEff.Profiling.Torch;

/// <summary>
/// The all-reduce of Megatron tensor parallelism: every rank holds a partial sum of the same shape, and afterwards every
/// rank holds the total. Implementations: <see cref="HostAllReduce"/> (ranks in one process on any devices, summed by
/// plain tensor ops; the CPU reference) and the NCCL communicator (GPUs).
/// </summary>
public interface ITensorAllReduce : IDisposable
{
    /// <summary>Number of ranks; calls take exactly one tensor per rank, in rank order.</summary>
    int Ranks { get; }

    /// <summary>Replaces each rank's tensor, in place, with the sum over ranks.</summary>
    /// <param name="perRank">One contiguous tensor per rank, all of the same shape and dtype.</param>
    void SumInPlace(IReadOnlyList<torch.Tensor> perRank);
}
