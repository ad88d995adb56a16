namespace LlmEff.Core.Tests.Runtime;

public class RuntimeModelBadInputTests
{
    private static readonly RuntimeModel Model = RuntimeModel.Fit(SyntheticSamples.Generate(1, _ => 0, 1));

    [Fact]
    public void Fit_NoSamples_Throws()
    {
        var ex = Assert.Throws<ArgumentException>(() => RuntimeModel.Fit([]));
        Assert.Equal("samples", ex.ParamName);
        Assert.Contains("No samples", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Fit_Null_Throws() => Assert.Throws<ArgumentNullException>(() => RuntimeModel.Fit(null!));

    [Fact]
    public void Fit_OneOutputLengthAtAPromptSize_NamesThePromptAndTheFix()
    {
        var samples = new List<ProfilingSample> { new(1, 1, 0.1), new(1, 8, 0.4), new(256, 8, 0.5), new(256, 8, 0.6) };
        var ex = Assert.Throws<ArgumentException>(() => RuntimeModel.Fit(samples));
        Assert.Contains("p = 256", ex.Message, StringComparison.Ordinal);
        Assert.Contains("profile more output lengths", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(0.0)]
    [InlineData(-0.1)]
    public void Fit_BadRuntime_Throws(double runtime)
    {
        var samples = new List<ProfilingSample> { new(1, 1, 0.1), new(1, 8, runtime) };
        var ex = Assert.Throws<ArgumentException>(() => RuntimeModel.Fit(samples));
        Assert.Contains("samples[1]", ex.Message, StringComparison.Ordinal);
        Assert.Contains("RuntimeSeconds", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Fit_NegativePrompt_Throws()
    {
        var ex = Assert.Throws<ArgumentException>(() => RuntimeModel.Fit([new(-1, 1, 0.1), new(-1, 2, 0.2)]));
        Assert.Contains("PromptTokens = -1", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Fit_ZeroOutputTokens_Throws()
    {
        var ex = Assert.Throws<ArgumentException>(() => RuntimeModel.Fit([new(1, 0, 0.1), new(1, 2, 0.2)]));
        Assert.Contains("OutputTokens = 0", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Fit_InvalidOptions_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => RuntimeModel.Fit(SyntheticSamples.Generate(1, _ => 0, 1), new RuntimeFitOptions { FixedOverheadSeconds = double.NaN }));
        // An overhead given without the mode that uses it would be ignored: refused, naming both.
        var ignored = Assert.Throws<ArgumentException>(() => RuntimeModel.Fit(SyntheticSamples.Generate(1, _ => 0, 1), new RuntimeFitOptions { FixedOverheadSeconds = 0.2 }));
        Assert.Equal("FixedOverheadSeconds", ignored.ParamName);
        Assert.Contains("Overhead = OverheadMode.Fixed", ignored.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => RuntimeModel.Fit(SyntheticSamples.Generate(1, _ => 0, 1), new RuntimeFitOptions { MinimumDistinctOutputLengths = 1 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => RuntimeModel.Fit(SyntheticSamples.Generate(1, _ => 0, 1), new RuntimeFitOptions { Aggregation = (TrialAggregation)42 }));
    }

    [Fact]
    public void Predict_InvalidTokens_Throws()
    {
        Assert.Equal("promptTokens", Assert.Throws<ArgumentOutOfRangeException>(() => Model.Predict(-1, 1)).ParamName);
        Assert.Equal("outputTokens", Assert.Throws<ArgumentOutOfRangeException>(() => Model.Predict(1, 0)).ParamName);
        Assert.Equal("promptTokens", Assert.Throws<ArgumentOutOfRangeException>(() => Model.PromptEncodingSeconds(-5)).ParamName);
    }

    [Theory]
    [InlineData(3, -1, 1)]
    [InlineData(37, 1, 0)]
    [InlineData(2, 4, -3)]
    public void PredictBatch_InvalidEntry_ThrowsNamingIndex(int badIndex, int p, int o)
    {
        var prompts = Enumerable.Repeat(100, 40).ToArray();
        var outputs = Enumerable.Repeat(10, 40).ToArray();
        prompts[badIndex] = p;
        outputs[badIndex] = o;
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => Model.PredictBatch(prompts, outputs));
        Assert.Contains($"[{badIndex}]", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void PredictBatch_MismatchedLengths_Throws()
    {
        Assert.Throws<ArgumentException>(() => Model.PredictBatch(new int[3], new int[4]));
        Assert.Throws<ArgumentException>(() => Model.PredictBatch(new int[3], new int[3], new double[2]));
    }

    [Fact]
    public void Create_InvalidParameters_Throws()
    {
        var pe = new PiecewiseLinearFunction([new(1, 0.1)]);
        Assert.Throws<ArgumentOutOfRangeException>(() => RuntimeModel.Create(pe, double.NaN));
        Assert.Throws<ArgumentOutOfRangeException>(() => RuntimeModel.Create(pe, -0.01));
        Assert.Throws<ArgumentOutOfRangeException>(() => RuntimeModel.Create(pe, 0.01, overheadSeconds: -1));
    }

    [Fact]
    public void Fit_SamplesOfTwoBatchSizes_AreRefused_NotPooledAsTrials()
    {
        int[] batches = [1, 16], prompts = [16, 512, 1024], outputs = [1, 16, 64];
        var samples = batches.SelectMany(b => prompts.SelectMany(p => outputs.Select(o =>
            new ProfilingSample(p, o, 0.01 + (p * b * 2e-5) + ((o - 1) * (0.02 + (b * 0.002)))) { BatchSize = b }))).ToList();

        var ex = Assert.Throws<ArgumentException>(() => RuntimeModel.Fit(samples, new RuntimeFitOptions { Aggregation = TrialAggregation.Mean }));

        Assert.Contains("batch size 16", ex.Message, StringComparison.Ordinal);
        Assert.Contains("BatchedRuntimeModel.Fit", ex.Message, StringComparison.Ordinal);
        // One batch size throughout is one model, batched or not.
        Assert.Equal(0.052, RuntimeModel.Fit(samples.Where(s => s.BatchSize == 16)).PerOutputTokenSeconds, 9);
    }
}
