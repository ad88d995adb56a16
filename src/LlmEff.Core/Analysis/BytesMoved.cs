namespace LlmEff.Core.Analysis;

/// <summary>Bytes a forward pass (or a phase of several) moves between accelerator memory and the compute units.</summary>
/// <param name="WeightBytes">Weights read.</param>
/// <param name="KvCacheReadBytes">Cached keys and values read by attention.</param>
/// <param name="KvCacheWriteBytes">New keys and values written to the cache.</param>
public readonly record struct BytesMoved(double WeightBytes, double KvCacheReadBytes, double KvCacheWriteBytes)
{
    /// <summary>All bytes moved.</summary>
    public double TotalBytes => WeightBytes + KvCacheReadBytes + KvCacheWriteBytes;

    /// <summary>Element-wise sum, for adding up the passes of a phase.</summary>
    public static BytesMoved operator +(BytesMoved left, BytesMoved right)
        => new(left.WeightBytes + right.WeightBytes, left.KvCacheReadBytes + right.KvCacheReadBytes, left.KvCacheWriteBytes + right.KvCacheWriteBytes);

    /// <summary>Element-wise sum (the named form of <c>+</c>).</summary>
    public static BytesMoved Add(BytesMoved left, BytesMoved right) => left + right;
}
