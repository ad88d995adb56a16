namespace LlmEff.Profiling.Torch;

/// <summary>
/// How the decode attention kernel (<see cref="DecodeAttention"/>) reads a chunk of the KV cache. The engine picks one per
/// head shape (<see cref="DecodeAttention.EngineForm"/>); an experiment can force one (the GPU harness sets
/// <see cref="DecodeAttention.FormInUse"/> before building a decoder). Each form is compiled once per shape.
/// </summary>
internal enum AttentionKernelForm
{
    /// <summary>Each warp takes tiles of 32 positions, every load of a tile in registers before any is used; a second kernel merges the chunks.</summary>
    WarpTiles = 0,

    /// <summary>Each block streams its chunk through shared memory in 8 KB stages (<c>cp.async</c>, four in flight); a second kernel merges the chunks.</summary>
    Pipelined = 1,
}
