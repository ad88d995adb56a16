using LlmEff.Core.Batching;

namespace LlmEff.Core.Tests.Batching;

public class BatchedRuntimeModelTests
{
    internal static readonly int[] Prompts = [128, 512, 1536];
    internal static readonly int[] Outputs = [8, 64];
    internal static readonly int[] Batches = [1, 4, 16, 64];

    // A batch whose terms are linear in b at fixed (p, context): prefill 5 ms + 2 us per prompt token of the batch + an
    // attention term in b·p², decode 10 ms + 0.1 ms per query + 10 ns per query and token of context (b KV caches).
    internal static double LinearTruth(int p, int o, int b)
    {
        var pe = 0.005 + (2e-6 * p * b) + (1e-10 * b * (double)p * p);
        var t = pe;
        for (var i = 1; i < o; i++)
        {
            t += 0.010 + (1e-4 * b) + (1e-8 * b * (p + i - 1));
        }

        return t;
    }

    internal static List<ProfilingSample> Grid(Func<int, int, int, double> truth, int[] batches) =>
        [.. from b in batches from p in Prompts from o in Outputs select new ProfilingSample(p, o, truth(p, o, b)) { BatchSize = b == 1 ? null : b }];

    [Fact]
    public void Fit_OnLinearInBatchTruth_PredictsUnprofiledBatchSizes()
    {
        var model = BatchedRuntimeModel.Fit(Grid(LinearTruth, Batches));

        Assert.Equal(Batches, model.ProfiledBatchSizes);
        foreach (var (p, o, b) in new[] { (128, 8, 2), (512, 64, 10), (1536, 20, 37), (1024, 40, 50), (300, 2, 3) })
        {
            var e = model.Explain(p, o, b);
            Assert.False(e.IsBatchSizeExtrapolated);
            // p = 300 and 1024 lie between PE knots: the b·p² term is interpolated linearly in p, hence the looser bound.
            Assert.InRange(Math.Abs(e.BatchSeconds - LinearTruth(p, o, b)) / LinearTruth(p, o, b), 0, 0.01);
        }

        Assert.Equal(LinearTruth(512, 64, 16), model.Predict(512, 64, 16), 1e-9);
        Assert.NotNull(model.FitError);
        Assert.InRange(model.FitError!.Max, 0, 1e-9);
        Assert.NotNull(model.LeaveOneBatchSizeOutError);
        Assert.Equal(2 * Prompts.Length * Outputs.Length, model.LeaveOneBatchSizeOutError!.Count);
        Assert.InRange(model.LeaveOneBatchSizeOutError.Max, 0, 1e-9);
    }

    [Fact]
    public void LeaveOneBatchSizeOut_SeesTheKneeOfAMemoryBoundPrefill()
    {
        // Prefill max(weights read, compute): flat in b until compute-bound, so leaving b = 4 out misses the knee.
        static double Kinked(int p, int o, int b) => Math.Max(0.004, 3e-6 * p * b) + ((o - 1) * (0.004 + (2e-5 * b)));
        var model = BatchedRuntimeModel.Fit(Grid(Kinked, Batches));

        Assert.InRange(model.FitError!.Max, 0, 1e-9);
        Assert.True(model.LeaveOneBatchSizeOutError!.Max > 0.05, model.LeaveOneBatchSizeOutError.ToString());
    }

    [Fact]
    public void OutsideTheProfiledBatchSizes_IsFlaggedAsExtrapolated()
    {
        var model = BatchedRuntimeModel.Fit(Grid(LinearTruth, [4, 16]));

        Assert.True(model.IsBatchSizeExtrapolated(1));
        Assert.True(model.Explain(512, 8, 64).IsBatchSizeExtrapolated);
        Assert.True(model.Explain(512, 8, 64).IsExtrapolated);
        Assert.False(model.Explain(512, 8, 8).IsBatchSizeExtrapolated);
        // Linear truth: the end segment extends exactly.
        Assert.Equal(LinearTruth(512, 8, 64), model.Predict(512, 8, 64), 1e-9);
        Assert.Null(model.LeaveOneBatchSizeOutError);
    }

    [Fact]
    public void BatchBelowOne_Throws_NamingTheArgument()
    {
        var model = BatchedRuntimeModel.Fit(Grid(LinearTruth, Batches));
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => model.Predict(128, 8, 0));
        Assert.Equal("batchSize", ex.ParamName);
        Assert.Contains(">= 1", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void OneBatchSize_IsRefused_WithTheFix()
    {
        var ex = Assert.Throws<ArgumentException>(() => BatchedRuntimeModel.Fit(Grid(LinearTruth, [4])));
        Assert.Equal("samples", ex.ParamName);
        Assert.Contains("--batch-sizes", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Fit_NullSample_NamesItsIndex()
    {
        var samples = Grid(LinearTruth, Batches);
        samples.Insert(3, null!);
        var ex = Assert.Throws<ArgumentException>(() => BatchedRuntimeModel.Fit(samples));
        Assert.Equal("samples", ex.ParamName);
        Assert.Contains("samples[3] is null", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FallingTrend_ExtrapolatedToNonPhysical_Throws()
    {
        // Runtime falling with b (impossible, but a noisy fit can show it): far enough out, the extension crosses zero.
        static double Falling(int p, int o, int b) => (0.2 - (0.001 * b)) + (0.0001 * p) + ((o - 1) * 0.01);
        var model = BatchedRuntimeModel.Fit(Grid(Falling, [1, 16]), RuntimeFitOptions.Default);
        var ex = Assert.Throws<InvalidOperationException>(() => model.Predict(128, 1, 1000));
        Assert.Contains("profile that batch size", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Json_RoundTrips_PredictionsAndErrors()
    {
        var model = BatchedRuntimeModel.Fit(Grid(LinearTruth, Batches), RuntimeFitOptions.Default with
        {
            Decode = DecodeModel.ContextLinear,
            Metadata = new RuntimeModelMetadata
            {
                ModelName = "tiny",
                Hardware = "H100",
                AcceleratorCount = 1,
                Metric = RuntimeMetric.Idealized,
                AcceleratorHourlyPriceUsd = 12.29,
                MeasuredUtc = new DateTimeOffset(2026, 12, 7, 0, 38, 25, TimeSpan.Zero),
                Notes = "random weights; plan x2",
            },
        });
        var json = model.ToJson();
        var back = BatchedRuntimeModel.FromJson(json);
        Assert.Contains("accelerator_count", Assert.Throws<InvalidDataException>(() => BatchedRuntimeModel.FromJson(json.Replace("\"accelerator_count\": 1", "\"accelerator_count\": -3", StringComparison.Ordinal))).Message, StringComparison.Ordinal);
        Assert.Contains("twice", Assert.Throws<InvalidDataException>(() => BatchedRuntimeModel.FromJson(json.Replace("\"accelerator_count\": 1", "\"accelerator_count\": 1, \"accelerator_count\": 2", StringComparison.Ordinal))).Message, StringComparison.Ordinal);

        Assert.Contains("\"schema\": \"llmeff.batched-runtime-model\"", json, StringComparison.Ordinal);
        Assert.Equal(model.ProfiledBatchSizes, back.ProfiledBatchSizes);
        Assert.Equal(model.Metadata, back.Metadata);
        // Each batch size's model keeps the run's provenance after its batch size.
        Assert.Equal("batch size 4; random weights; plan x2", back.BatchModels[1].Metadata.Notes);
        Assert.Equal(model.LeaveOneBatchSizeOutError!.Count, back.LeaveOneBatchSizeOutError!.Count);
        foreach (var (p, o, b) in new[] { (128, 8, 2), (1536, 200, 37), (700, 1, 64) })
        {
            Assert.Equal(model.Predict(p, o, b), back.Predict(p, o, b), 1e-12);
        }
    }

    [Fact]
    public void A_batched_models_json_read_as_a_batch_one_model_is_refused_naming_the_reader()
    {
        var batched = BatchedRuntimeModel.Fit(Grid(LinearTruth, [1, 4, 16]));
        var ex = Assert.Throws<InvalidDataException>(() => RuntimeModel.FromJson(batched.ToJson()));
        Assert.Contains("batched runtime model", ex.Message, StringComparison.Ordinal);
        Assert.Contains("BatchedRuntimeModel.FromJson", ex.Message, StringComparison.Ordinal);
        Assert.Contains("--batch B", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Json_OfABatchOneModel_IsRefused_Saying_Why()
    {
        var single = RuntimeModel.Fit(Grid(LinearTruth, [1]));
        var ex = Assert.Throws<InvalidDataException>(() => BatchedRuntimeModel.FromJson(single.ToJson()));
        Assert.Contains("llmeff.batched-runtime-model", ex.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidDataException>(() => BatchedRuntimeModel.FromJson("{\"schema\": \"llmeff.batched-runtime-model\", \"schema_version\": 1, \"batches\": [{\"batch_size\": 1}]}"));
        Assert.Throws<InvalidDataException>(() => BatchedRuntimeModel.FromJson("not json"));
    }

    [Fact]
    public void Json_WithABadMetricOrDate_SaysWhatToWrite()
    {
        var json = BatchedRuntimeModel.Fit(Grid(LinearTruth, Batches), RuntimeFitOptions.Default with { Decode = DecodeModel.ContextLinear }).ToJson();
        string With(string field, string value)
        {
            var root = System.Text.Json.Nodes.JsonNode.Parse(json)!.AsObject();
            root[field] = value;
            return root.ToJsonString();
        }

        var metric = Assert.Throws<InvalidDataException>(() => BatchedRuntimeModel.FromJson(With("metric", "fast")));
        Assert.Contains("Idealized", metric.Message, StringComparison.Ordinal);
        var date = Assert.Throws<InvalidDataException>(() => BatchedRuntimeModel.FromJson(With("measured_utc", "yesterday")));
        Assert.Contains("measured_utc", date.Message, StringComparison.Ordinal);
    }
}
