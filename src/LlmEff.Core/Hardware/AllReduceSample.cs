namespace LlmEff.Core.Hardware;

/// <summary>One timed all-reduce: <paramref name="Bytes"/> summed over <paramref name="Ranks"/> GPUs in <paramref name="Seconds"/>.</summary>
/// <param name="Ranks">Ranks taking part (at least 2: one rank moves no data).</param>
/// <param name="Bytes">Message size per rank, bytes.</param>
/// <param name="Seconds">Time of one all-reduce (a mean over back-to-back calls), seconds.</param>
public sealed record AllReduceSample(int Ranks, double Bytes, double Seconds);
