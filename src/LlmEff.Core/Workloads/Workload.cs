namespace LlmEff.Core.Workloads;

/// <summary>
/// A named list of queries kept as two parallel arrays, the layout <see cref="RuntimeModel.PredictBatch(ReadOnlySpan{int}, ReadOnlySpan{int}, Span{double})"/> reads.
/// </summary>
public sealed class Workload
{
    private readonly int[] _promptTokens;
    private readonly int[] _outputTokens;

    /// <summary>Creates a workload from its queries.</summary>
    /// <exception cref="ArgumentException">No queries, a negative prompt size or fewer than 1 output token.</exception>
    public Workload(string name, IEnumerable<WorkloadQuery> queries)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(queries);
        var list = queries.ToArray();
        if (list.Length == 0)
        {
            throw new ArgumentException("A workload needs at least one query.", nameof(queries));
        }

        _promptTokens = new int[list.Length];
        _outputTokens = new int[list.Length];
        for (var i = 0; i < list.Length; i++)
        {
            if (list[i].PromptTokens < 0 || list[i].OutputTokens < 1)
            {
                throw new ArgumentException($"queries[{i}] = (p = {list[i].PromptTokens}, o = {list[i].OutputTokens}) is invalid; prompts need p >= 0 and o >= 1.", nameof(queries));
            }

            _promptTokens[i] = list[i].PromptTokens;
            _outputTokens[i] = list[i].OutputTokens;
        }

        Name = name;
    }

    /// <summary>The workload's name.</summary>
    public string Name { get; }

    /// <summary>Number of queries.</summary>
    public int Count => _promptTokens.Length;

    /// <summary>Prompt sizes, one per query.</summary>
    public ReadOnlySpan<int> PromptTokens => _promptTokens;

    /// <summary>Output lengths, one per query.</summary>
    public ReadOnlySpan<int> OutputTokens => _outputTokens;

    /// <summary>The i-th query.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is outside [0, <see cref="Count"/>).</exception>
    public WorkloadQuery this[int index]
    {
        get
        {
            // A raw array index would throw IndexOutOfRangeException without saying which range is valid.
            if ((uint)index >= (uint)_promptTokens.Length)
            {
                throw new ArgumentOutOfRangeException(nameof(index), index, $"Workload '{Name}' has {Count} queries; give an index from 0 to {Count - 1}.");
            }

            return new(_promptTokens[index], _outputTokens[index]);
        }
    }

    // The most queries CreateSynthetic makes (about 80 MB of token counts), documented on it.
    private const int MaxSyntheticQueries = 10_000_000;

    /// <summary>
    /// The built-in sample workload (no files needed): 1,000 few-shot-evaluation-like queries, seed 2023.
    /// Prompt sizes are log-uniform in [32, 1920] tokens, the range the paper profiles; half the queries
    /// answer in 1–5 tokens (classification, multiple choice), 35% in 16–64 (short answers) and 15% in
    /// 65–256 (summaries), which exercises both terms of the runtime model.
    /// </summary>
    public static Workload Sample { get; } = CreateSynthetic("sample", 1_000, seed: 2023);

    /// <summary>A deterministic synthetic workload of <paramref name="count"/> queries with the mix described on <see cref="Sample"/>.</summary>
    /// <param name="name">The workload's name.</param>
    /// <param name="count">Number of queries, from 1 to 10,000,000.</param>
    /// <param name="seed">Seed of the random generator.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is below 1 or above 10,000,000.</exception>
    public static Workload CreateSynthetic(string name, int count, int seed)
    {
        // Capped so that a huge count fails here, naming count, rather than as OutOfMemoryException mid-allocation.
        if (count < 1 || count > MaxSyntheticQueries)
        {
            throw new ArgumentOutOfRangeException(nameof(count), count, $"Give a query count from 1 to {MaxSyntheticQueries:N0}.");
        }

        var rng = new Random(seed);
        var queries = new WorkloadQuery[count];
        for (var i = 0; i < count; i++)
        {
            var p = (int)Math.Round(Math.Exp(Math.Log(32) + (rng.NextDouble() * (Math.Log(1920) - Math.Log(32)))));
            var kind = rng.NextDouble();
            var o = kind < 0.5 ? rng.Next(1, 6) : kind < 0.85 ? rng.Next(16, 65) : rng.Next(65, 257);
            queries[i] = new WorkloadQuery(p, o);
        }

        return new Workload(name, queries);
    }
}
