using BenchmarkDotNet.Attributes;
using LlmEff.Core;

namespace LlmEff.Benchmarks;

/// <summary>
/// Batch prediction of 10 million queries (target: at least 100 million queries per second on one core)
/// against the baseline a user would write: a per-query loop over <c>Predict</c>.
/// </summary>
public class PredictBenchmarks
{
    private const int Queries = 10_000_000;
    private readonly RuntimeModel _model = RuntimeModel.Create([(1, 0.020), (256, 0.051), (512, 0.097), (1024, 0.190), (1536, 0.298)], 0.038);
    private int[] _prompts = [];
    private int[] _outputs = [];
    private double[] _destination = [];

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(3);
        _prompts = new int[Queries];
        _outputs = new int[Queries];
        _destination = new double[Queries];
        for (var i = 0; i < Queries; i++)
        {
            _prompts[i] = rng.Next(1, 2048);
            _outputs[i] = rng.Next(1, 256);
        }
    }

    [Benchmark(Baseline = true, Description = "per-query loop over Predict, 10M")]
    public void PerQueryLoop()
    {
        for (var i = 0; i < _prompts.Length; i++)
        {
            _destination[i] = _model.Predict(_prompts[i], _outputs[i]);
        }
    }

    [Benchmark(Description = "PredictBatch into a span, 10M")]
    public void Batch() => _model.PredictBatch(_prompts, _outputs, _destination);
}
