using static TorchSharp.torch;

namespace LlmEff.Profiling.Torch;

/// <summary>The decoder's buckets: views of the shared caches, tokens and histories, and the fused step's own buffers.</summary>
public sealed partial class BatchedGreedyDecoder
{
    /// <summary>One bucket's views of the shared buffers (its first <see cref="Size"/> caches, tokens and histories) and the fused step's own buffers.</summary>
    private sealed class Bucket : IDisposable
    {
        public Bucket(int size, Tensor[] cache, Tensor token, Tensor history, ShardShape s, ScalarType dtype, Device device, int attentionChunks, bool secondNorm)
        {
            Size = size;
            Cache = [.. cache.Select(c => c.narrow(0, 0, size))];
            Keys = [.. Cache.Select(c => c.narrow(2, s.Heads, s.KeyValueHeads).permute(0, 2, 1, 3))];
            Values = [.. Cache.Select(c => c.narrow(2, s.Heads + s.KeyValueHeads, s.KeyValueHeads).permute(0, 2, 1, 3))];
            Token = token.narrow(0, 0, size);
            History = history.narrow(0, 0, size);
            if (s.HasHead)
            {
                Normed = zeros([size, s.HiddenSize], dtype, device);
                Normed2 = secondNorm ? zeros([size, s.HiddenSize], dtype, device) : null;
                Queries = zeros([size, s.Heads, s.HeadDim], dtype, device);
                Attention = zeros([size, s.AttentionWidth], dtype, device);
                var floats = DecodeAttention.WorkspaceFloats(size, s.Heads, s.HeadDim, attentionChunks);
                AttentionWorkspace = floats > 0 ? zeros([floats], ScalarType.Float32, device) : null;
            }
        }

        public int Size { get; }

        public Tensor[] Cache { get; }

        public Tensor[] Keys { get; }

        public Tensor[] Values { get; }

        public Tensor Token { get; }

        public Tensor History { get; }

        /// <summary>The fused step's norm output <c>[b, h]</c>, queries <c>[b, H, HD]</c> and attention output <c>[b, H·HD]</c> (stages with the head).</summary>
        public Tensor? Normed { get; }

        /// <summary>A two-norm parallel block's second norm output <c>[b, h]</c>, the FFN's input; null otherwise.</summary>
        public Tensor? Normed2 { get; }

        public Tensor? Queries { get; }

        public Tensor? Attention { get; }

        /// <summary>The attention kernel's chunk workspace, sized for the most chunks over this bucket's windows (null without the kernel or with one chunk).</summary>
        public Tensor? AttentionWorkspace { get; }

        public void Dispose()
        {
            foreach (var t in Keys.Concat(Values).Concat(Cache))
            {
                t.Dispose();
            }

            Token.Dispose();
            History.Dispose();
            Normed?.Dispose();
            Normed2?.Dispose();
            Queries?.Dispose();
            Attention?.Dispose();
            AttentionWorkspace?.Dispose();
        }
    }
}
