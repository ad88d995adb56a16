using BenchmarkDotNet.Attributes;
using LlmEff.Core;

namespace LlmEff.Benchmarks;

/// <summary>
/// <c>RuntimeModel.Fit</c> on the paper's configuration grid (5 prompt sizes x 7 output lengths = 35 samples,
/// target under 50 us) and on 100,000 samples (5 prompt sizes x 10 output lengths x 2,000 trials).
/// </summary>
[MemoryDiagnoser]
public class FitBenchmarks
{
    private List<ProfilingSample> _small = [];
    private List<ProfilingSample> _large = [];

    [GlobalSetup]
    public void Setup()
    {
        _small = Samples(trials: 1, outputs: [1, 2, 4, 8, 16, 32, 64]);
        _large = Samples(trials: 2_000, outputs: [1, 2, 4, 8, 16, 24, 32, 40, 48, 64]);
    }

    [Benchmark(Description = "Fit, 35 samples (paper grid)")]
    public RuntimeModel Fit35() => RuntimeModel.Fit(_small);

    [Benchmark(Description = "Fit, 100,000 samples, Minimum")]
    public RuntimeModel Fit100kMinimum() => RuntimeModel.Fit(_large);

    [Benchmark(Description = "Fit, 100,000 samples, All")]
    public RuntimeModel Fit100kAll() => RuntimeModel.Fit(_large, new RuntimeFitOptions { Aggregation = TrialAggregation.All });

    private static List<ProfilingSample> Samples(int trials, int[] outputs)
    {
        var rng = new Random(1);
        var list = new List<ProfilingSample>();
        foreach (var p in new[] { 1, 256, 512, 1024, 1536 })
        {
            foreach (var o in outputs)
            {
                for (var t = 0; t < trials; t++)
                {
                    list.Add(new ProfilingSample(p, o, 0.02 + (0.00018 * p) + (0.035 * (o - 1)) + (0.001 * rng.NextDouble())));
                }
            }
        }

        return list;
    }
}
