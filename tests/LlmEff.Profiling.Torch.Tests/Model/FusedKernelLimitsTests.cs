using TorchSharp;

namespace LlmEff.Profiling.Torch.Tests.Model;

/// <summary>
/// The run-time compiled kernels' limits and launch arithmetic, which decide on the host which models they serve and how
/// a captured step cuts its attention (the kernels themselves run on the GPU harness's checks).
/// </summary>
public sealed class FusedKernelLimitsTests
{
    [Theory]
    [InlineData(256, 1)] // GPT-J: multi-head, 8 values per lane
    [InlineData(128, 4)] // Llama-3-8B: 4 query heads per KV head
    [InlineData(128, 8)] // Qwen3-30B-A3B: 32 values per lane, the most the kernel keeps
    [InlineData(64, 16)]
    public void Decode_attention_serves_the_catalogs_head_layouts(int headDim, int groups) =>
        Assert.Null(DecodeAttention.UnsupportedReason(headDim, groups));

    [Theory]
    [InlineData(80, 1, "multiples of 32")]
    [InlineData(512, 1, "multiples of 32 up to 256")]
    [InlineData(64, 71, "at most 32 values per lane")] // Falcon-7B's multi-query attention
    public void Decode_attention_refuses_what_it_cannot_hold_and_says_why(int headDim, int groups, string why)
    {
        var reason = DecodeAttention.UnsupportedReason(headDim, groups);
        Assert.NotNull(reason);
        Assert.Contains(why, reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1, 8, 1664, 13)] // one query: 52 tiles x 8 KV heads = 416 warps, one tile each, 4 per chunk
    [InlineData(1, 16, 1664, 13)] // 832 tiles still fit one per warp
    [InlineData(8, 8, 1664, 4)] // 3,328 tiles: 4 per warp, 16 per chunk
    [InlineData(32, 16, 1664, 1)] // 26,624 tiles: the whole context per block already keeps 1,056 warps busy
    [InlineData(4, 8, 128, 1)] // a short window: one chunk of its 4 tiles
    [InlineData(1, 1, 33, 1)]
    [InlineData(1, 1, 160, 2)] // 5 tiles: 4 + 1
    public void Decode_attention_splits_the_context_until_the_gpu_is_full(int batch, int kvHeads, int window, int chunks) =>
        Assert.Equal(chunks, DecodeAttention.Chunks(batch, kvHeads, window));

    [Theory]
    [InlineData(4, 1056, 7)] // the engine's target: 1,664 tiles, 2 per warp, 8 per chunk
    [InlineData(4, 2112, 13)] // twice the warps: one tile each, 4 per chunk
    [InlineData(4, 528, 4)] // half: 4 per warp, 16 per chunk
    public void A_split_target_other_than_the_engines_changes_only_the_tiles_per_warp(int batch, int targetWarps, int chunks)
    {
        Assert.Null(DecodeAttention.TargetWarpsOverride);
        Assert.Equal(1056, DecodeAttention.TargetWarpsFor(AttentionKernelForm.WarpTiles));
        Assert.Equal(chunks, DecodeAttention.Chunks(batch, 8, 1664, targetWarps));
    }

    [Theory]
    [InlineData(1664, 13, 128)]
    [InlineData(1664, 4, 416)]
    [InlineData(160, 2, 96)] // 5 tiles in chunks of 3: 96 + 64 positions
    [InlineData(40, 1, 64)]
    public void Decode_attention_chunks_are_whole_tiles(int window, int chunks, int tokens)
    {
        Assert.Equal(tokens, DecodeAttention.ChunkTokens(window, chunks));
        Assert.Equal(chunks, (window + tokens - 1) / tokens);
    }

    [Fact]
    public void A_workspace_serves_the_window_that_asks_for_the_most_chunks()
    {
        // One query, 8 KV heads, windows of 128 up to 4,256 positions: the last window's 133 tiles put two on each warp
        // (17 chunks), the one before it has 132, one a warp (33 chunks).
        Assert.Equal(17, DecodeAttention.Chunks(1, 8, 4256));
        Assert.Equal(33, DecodeAttention.Chunks(1, 8, 4224));
        Assert.Equal(33, DecodeAttention.MostChunks(1, 8, 128, 4256));
        Assert.Equal(DecodeAttention.Chunks(4, 8, 100), DecodeAttention.MostChunks(4, 8, 128, 100)); // one short window
    }

    [Fact]
    public void Decode_attention_needs_no_workspace_for_one_chunk() =>
        Assert.Equal(0, DecodeAttention.WorkspaceFloats(8, 32, 128, 1));

    [Fact]
    public void Decode_attention_workspace_holds_each_chunks_sums_max_and_total() =>
        Assert.Equal(2L * 32 * 5 * (128 + 2), DecodeAttention.WorkspaceFloats(2, 32, 128, 5));

    [Theory]
    // Llama-3-8B's heads on an H100 (132 SMs, 4 resident blocks each): 52 tiles of a 1,664-position window per KV head.
    [InlineData(1, 8, 528, 26)] // 416 tiles: 2 a block keep 1.5 blocks per SM
    [InlineData(2, 8, 528, 13)] // 4 a block
    [InlineData(4, 8, 528, 8)] // 7 a block: 8 chunks (the last one shorter)
    [InlineData(8, 8, 528, 8)] // 64 (query, KV head) pairs: 8 chunks fill the 528 resident blocks
    [InlineData(16, 8, 528, 4)] // 6,656 tiles: one wave of 528 blocks needs 13 a block
    [InlineData(32, 8, 528, 2)]
    // Qwen3-30B-A3B's (2 resident blocks per SM) and GPT-J's (5) heads.
    [InlineData(1, 4, 264, 52)] // 208 tiles: fewer than 1.5 blocks per SM even one tile each
    [InlineData(16, 4, 264, 4)]
    [InlineData(32, 16, 660, 1)] // 512 pairs: a second chunk would need a second wave
    public void The_pipelined_split_fills_one_wave_with_blocks_of_up_to_seven_tiles(int batch, int kvHeads, int resident, int chunks) =>
        Assert.Equal(chunks, DecodeAttention.PipelinedSplit(batch, kvHeads, 1664, resident, 132));

    [Theory]
    [InlineData(1, 8, 1664, 52)] // 416 tiles for 528 blocks: one tile each
    [InlineData(4, 8, 1664, 13)] // 1,664 tiles: 4 per block, 13 chunks
    [InlineData(16, 8, 1664, 4)] // 6,656 tiles: 13 per block, 4 chunks
    [InlineData(32, 16, 1664, 2)] // 26,624 tiles: 51 per block, so 2 chunks of the 52 tiles
    public void Under_a_split_target_the_pipelined_form_gives_each_block_as_few_tiles_as_keep_it_busy(int batch, int kvHeads, int window, int chunks)
    {
        Assert.Equal(chunks, DecodeAttention.Chunks(batch, kvHeads, window, form: AttentionKernelForm.Pipelined));
    }

    [Theory]
    [InlineData(torch.ScalarType.BFloat16, 128, 4)] // Llama-3-8B
    [InlineData(torch.ScalarType.BFloat16, 128, 8)] // Qwen3-30B-A3B
    [InlineData(torch.ScalarType.BFloat16, 256, 1)] // GPT-J
    [InlineData(torch.ScalarType.BFloat16, 64, 8)]
    [InlineData(torch.ScalarType.Float32, 128, 16)]
    public void The_pipelined_form_serves_the_catalogs_head_layouts(torch.ScalarType dtype, int headDim, int groups) =>
        Assert.Null(DecodeAttention.PipelinedUnsupportedReason(dtype, headDim, groups));

    [Theory]
    [InlineData(torch.ScalarType.BFloat16, 96, 1, "rows of 64, 128, 256 or 512 bytes")] // 12 pieces: not a power of two
    [InlineData(torch.ScalarType.Float32, 256, 1, "rows of 64, 128, 256 or 512 bytes")] // 1,024 bytes: wider than a warp's lanes
    [InlineData(torch.ScalarType.BFloat16, 64, 16, "at most 64 values per thread")]
    public void The_pipelined_form_leaves_to_the_warp_tiles_what_it_cannot_hold(torch.ScalarType dtype, int headDim, int groups, string why)
    {
        var reason = DecodeAttention.PipelinedUnsupportedReason(dtype, headDim, groups);
        Assert.NotNull(reason);
        Assert.Contains(why, reason, StringComparison.Ordinal);
        Assert.Equal(AttentionKernelForm.WarpTiles, DecodeAttention.EngineForm(dtype, headDim, groups));
    }

    [Theory]
    [InlineData(128, 4, true)] // Llama-3-8B
    [InlineData(256, 1, true)] // GPT-J
    [InlineData(128, 8, false)] // Qwen3-30B-A3B: eight query heads a KV head
    public void The_engine_streams_the_heads_where_streaming_measured_faster(int headDim, int groups, bool pipelined)
    {
        Assert.Null(DecodeAttention.FormInUse);
        Assert.Equal(pipelined ? AttentionKernelForm.Pipelined : AttentionKernelForm.WarpTiles, DecodeAttention.EngineForm(torch.ScalarType.BFloat16, headDim, groups));
    }

    /// <summary>A dtype the kernels are not built for is answered with the reason, before any CUDA call (the step then keeps the libtorch ops).</summary>
    [TorchFact]
    public void Kernels_for_fp16_are_declined_with_the_reason_without_touching_cuda()
    {
        Assert.Contains("bf16 and fp32", DecodeKernels.For(torch.ScalarType.Float16).Reason, StringComparison.Ordinal);
        Assert.Contains("bf16 and fp32", DecodeAttention.For(torch.ScalarType.Float16, 128, 4).Reason, StringComparison.Ordinal);
        Assert.Contains("bf16 and fp32", MixtureOfExpertsKernels.For(torch.ScalarType.Float16).Reason, StringComparison.Ordinal);
        Assert.Contains("multiples of 32", DecodeAttention.For(torch.ScalarType.BFloat16, 80, 1).Reason, StringComparison.Ordinal);
    }

    /// <summary>The weights a fused kernel asks the L2 for are one contiguous span: its pointer and every byte of it, or nothing.</summary>
    [TorchFact]
    public void Weights_to_prefetch_are_passed_as_one_contiguous_span()
    {
        Assert.Equal(WeightPrefetch.Off, DecodeKernels.WeightPrefetchInUse);
        Assert.Equal((IntPtr.Zero, 0L), DecodeKernels.PrefetchArguments(null));
        using var w = torch.zeros(64, 48, dtype: torch.ScalarType.BFloat16);
        var (pointer, bytes) = DecodeKernels.PrefetchArguments(w);
        Assert.NotEqual(IntPtr.Zero, pointer);
        Assert.Equal(64L * 48 * 2, bytes);
        using var transposed = w.t();
        Assert.Equal("weights", Assert.Throws<ArgumentException>(() => DecodeKernels.PrefetchArguments(transposed)).ParamName);
    }

    [Theory]
    [InlineData(true, 8, 2048, 768, null)] // Qwen3-30B-A3B
    [InlineData(true, 2, 4096, 7168, null)] // Mixtral-8x7B, 2-way shard
    [InlineData(false, 2, 4096, 7168, "gated")]
    [InlineData(true, 17, 4096, 7168, "at most 16")]
    [InlineData(true, 2, 4096, 7170, "multiples of 8")]
    public void Expert_kernels_take_gated_mixtures_in_16_byte_rows(bool gated, int k, int hidden, int width, string? why)
    {
        var reason = MixtureOfExpertsKernels.UnsupportedReason(gated, k, hidden, width);
        if (why is null)
        {
            Assert.Null(reason);
        }
        else
        {
            Assert.Contains(why, reason, StringComparison.Ordinal);
        }
    }
}
