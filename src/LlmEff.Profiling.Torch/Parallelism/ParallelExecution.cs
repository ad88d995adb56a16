namespace LlmEff.Profiling.Torch;

/// <summary>How <see cref="ParallelProfiler"/> runs a tensor-parallel layout.</summary>
public enum ParallelExecution
{
    /// <summary>
    /// Rank 0's shard of each pipeline stage is timed on one GPU and the collectives are added from Core's communication
    /// model. Needs one GPU for any layout.
    /// </summary>
    Emulated = 0,

    /// <summary>
    /// Every rank's shard runs on its own GPU (<c>cuda:d</c> to <c>cuda:d+N−1</c>, from the profiler's device <c>d</c>) and
    /// the all-reduces go through NCCL, driven by <see cref="TensorParallelDecoder"/>; on the CPU the ranks share it and a
    /// host all-reduce (a correctness run, not a timing). One pipeline stage only. Needs <c>N</c> GPUs and NCCL.
    /// </summary>
    Real = 1,
}
