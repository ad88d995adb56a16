using LlmEff.Core.Energy;
using Microsoft.Extensions.Logging;

namespace LlmEff.Core.Tests.Energy;

public class EnergyModelTests
{
    // Synthetic GPU: runtime PE(p) = 0.02 + 1e-4·p, g = 20 ms; power 72 W idle, 400 W during decode and 650 W during
    // prompt encoding, so E = 650·PE(p) + 400·(o−1)·g joules (one accelerator).
    private static double Runtime(int p, int o) => 0.02 + (1e-4 * p) + (0.02 * (o - 1));

    private static double Energy(int p, int o) => (650 * (0.02 + (1e-4 * p))) + (400 * 0.02 * (o - 1));

    private static List<ProfilingSample> Samples(Func<Random, double>? noise = null)
    {
        var rng = new Random(1);
        return (from p in new[] { 1, 256, 512, 1024, 1536 }
                from o in new[] { 1, 8, 16, 32, 64 }
                select new ProfilingSample(p, o, Runtime(p, o)) { EnergyJoules = Energy(p, o) * (1 + (noise?.Invoke(rng) ?? 0)) }).ToList();
    }

    [Fact]
    public void Fit_RecoversEnergyPerTokenAndPerPrompt()
    {
        var model = EnergyModel.Fit(Samples()) with { IdlePowerWatts = 72, BoardPowerWatts = 700 };

        Assert.Equal(400 * 0.02, model.PerOutputTokenJoules, 1e-9);         // 8 J per output token
        Assert.Equal(650 * (0.02 + 0.1024), model.PredictPromptEncodingJoules(1024), 1e-9);
        Assert.Equal(Energy(700, 33), model.PredictJoules(700, 33), 1e-9);
        Assert.Equal(1.0, model.RSquared, 1e-12);
        Assert.Equal(TrialAggregation.Minimum, model.Aggregation);
        Assert.Equal([1, 256, 512, 1024, 1536], model.ProfiledPromptTokens);
        Assert.Equal(25, model.Residuals.Count);
        Assert.All(model.Residuals, r => Assert.Equal(0, r.ResidualJoules, 1e-9));
        Assert.Equal(400, model.DecodePowerWatts(0.02), 1e-6);

        // Idle share: 72 W for the query's runtime; the rest is dynamic.
        var split = model.Split(700, 33, Runtime(700, 33));
        Assert.Equal(Energy(700, 33), split.TotalJoules, 1e-9);
        Assert.Equal(72 * Runtime(700, 33), split.IdleJoules!.Value, 1e-9);
        Assert.Equal(Energy(700, 33) - (72 * Runtime(700, 33)), split.DynamicJoules!.Value, 1e-9);

        // The paper's idealized energy with a 700 W board: 700/400 looser than measured during decode-dominated queries.
        Assert.Equal(700 * Runtime(1, 1000), model.IdealizedJoules(Runtime(1, 1000))!.Value, 1e-9);
    }

    [Fact]
    public void Fit_PromptSizesMeasuredAtOneOutputLength_AreRefusedUnlessAllowed_ThenRestOnTheSharedTokenEnergy()
    {
        // An adaptive design: sweeps at 1 and 1536, every other prompt size at o = 1 only.
        var design = Samples().Where(s => s.PromptTokens is 1 or 1536 || s.OutputTokens == 1).ToList();

        Assert.Throws<ArgumentException>(() => EnergyModel.Fit(design));
        var model = EnergyModel.Fit(design, new EnergyFitOptions { AllowSingleOutputLength = true });
        Assert.Equal(400 * 0.02, model.PerOutputTokenJoules, 1e-9);
        Assert.Equal([1, 256, 512, 1024, 1536], model.ProfiledPromptTokens);
        Assert.Equal(Energy(512, 17), model.PredictJoules(512, 17), 1e-9);
    }

    [Fact]
    public void Fit_NoisyEnergy_RSquaredBelowOne_AndLogsBelowTheThreshold()
    {
        var logger = new EnergyLogger();
        var model = EnergyModel.Fit(Samples(r => 0.05 * (r.NextDouble() - 0.5)), new EnergyFitOptions { RSquaredWarningThreshold = 1 }, logger);
        Assert.InRange(model.RSquared, 0.95, 0.99999);
        Assert.Equal(8.0, model.PerOutputTokenJoules, 0.2);
        Assert.Contains(logger.Messages, m => m.Contains("R²", StringComparison.Ordinal));
    }

    [Fact]
    public void Fit_AcceleratorCount_ScalesIdleShareAndDecodePower()
    {
        var model = EnergyModel.Fit(Samples()) with { IdlePowerWatts = 50, AcceleratorCount = 4 };
        Assert.Equal(100, model.DecodePowerWatts(0.02), 1e-6); // 8 J over 20 ms over 4 accelerators
        Assert.Equal(50 * 4 * 2.0, model.Split(1, 1, 2.0).IdleJoules!.Value, 1e-9);
    }

    [Fact]
    public void Split_WithoutIdlePower_HasNoIdleOrDynamicShare()
    {
        var split = EnergyModel.Fit(Samples()).Split(1, 1, 0.1);
        Assert.Null(split.IdleJoules);
        Assert.Null(split.DynamicJoules);
        Assert.Null(EnergyModel.Fit(Samples()).IdealizedJoules(1.0));
    }

    [Fact]
    public void Predict_IsNeverNegative_AndDynamicNeverBelowZero()
    {
        // E_pe falls from 1 J at p = 100 to 0.5 J at p = 200: extrapolated to p = 1000 the line is negative.
        var model = EnergyModel.Create([new(100, 1.0), new(200, 0.5)], 0.0) with { IdlePowerWatts = 1000 };
        Assert.Equal(0.0, model.PredictJoules(1000, 1));
        Assert.Equal(0.0, model.PredictPromptEncodingJoules(1000));
        Assert.Equal(0.0, model.Split(100, 1, 10).DynamicJoules);
        Assert.True(double.IsNaN(model.RSquared));
        Assert.Null(model.Aggregation);
        Assert.Empty(model.Residuals);
    }

    [Fact]
    public void PredictTotalJoules_SumsTheQueries()
    {
        var model = EnergyModel.Create([new(0, 1.0), new(100, 2.0)], 0.5);
        Assert.Equal(1.5 + 2.0 + 3.0, model.PredictTotalJoules([50, 100, 100], [1, 1, 3]), 1e-12);
        Assert.Equal("outputTokens", Assert.Throws<ArgumentException>(() => model.PredictTotalJoules([1, 2], [1])).ParamName);
    }

    [Fact]
    public void Fit_MissingOrBadEnergy_ThrowsNamingTheSample()
    {
        var samples = Samples();
        samples[3] = samples[3] with { EnergyJoules = null };
        var ex = Assert.Throws<ArgumentException>(() => EnergyModel.Fit(samples));
        Assert.Equal("samples", ex.ParamName);
        Assert.Contains("samples[3]", ex.Message, StringComparison.Ordinal);
        Assert.Contains("filter", ex.Message, StringComparison.Ordinal);

        foreach (var bad in new[] { double.NaN, double.PositiveInfinity, -1.0, 0.0 })
        {
            samples[3] = samples[3] with { EnergyJoules = bad };
            Assert.Contains("samples[3]", Assert.Throws<ArgumentException>(() => EnergyModel.Fit(samples)).Message, StringComparison.Ordinal);
        }

        Assert.Throws<ArgumentException>(() => EnergyModel.Fit([]));
        Assert.Throws<ArgumentNullException>(() => EnergyModel.Fit(null!));
    }

    [Fact]
    public void BadInputs_ThrowNamingTheArgument()
    {
        var model = EnergyModel.Fit(Samples());
        Assert.Equal("IdlePowerWatts", Assert.Throws<ArgumentOutOfRangeException>(() => model with { IdlePowerWatts = -1 }).ParamName);
        Assert.Equal("BoardPowerWatts", Assert.Throws<ArgumentOutOfRangeException>(() => model with { BoardPowerWatts = double.NaN }).ParamName);
        Assert.Equal("CounterResolutionJoules", Assert.Throws<ArgumentOutOfRangeException>(() => model with { CounterResolutionJoules = double.PositiveInfinity }).ParamName);
        Assert.Equal("CounterUpdateIntervalSeconds", Assert.Throws<ArgumentOutOfRangeException>(() => model with { CounterUpdateIntervalSeconds = -0.1 }).ParamName);
        Assert.Equal("AcceleratorCount", Assert.Throws<ArgumentOutOfRangeException>(() => model with { AcceleratorCount = 0 }).ParamName);
        Assert.Equal("Metadata", Assert.Throws<ArgumentNullException>(() => model with { Metadata = null! }).ParamName);
        Assert.Equal("promptTokens", Assert.Throws<ArgumentOutOfRangeException>(() => model.PredictJoules(-1, 1)).ParamName);
        Assert.Equal("outputTokens", Assert.Throws<ArgumentOutOfRangeException>(() => model.PredictJoules(1, 0)).ParamName);
        Assert.Equal("runtimeSeconds", Assert.Throws<ArgumentOutOfRangeException>(() => model.Split(1, 1, double.NaN)).ParamName);
        Assert.Equal("runtimeSeconds", Assert.Throws<ArgumentOutOfRangeException>(() => model.IdealizedJoules(-1)).ParamName);
        Assert.Equal("perOutputTokenSeconds", Assert.Throws<ArgumentOutOfRangeException>(() => model.DecodePowerWatts(0)).ParamName);
        Assert.Equal("perOutputTokenJoules", Assert.Throws<ArgumentOutOfRangeException>(() => EnergyModel.Create([new(1, 1)], double.NaN)).ParamName);
        Assert.Equal("promptEncodingJoules", Assert.Throws<ArgumentException>(() => EnergyModel.Create([new(-1, 1)], 1)).ParamName);
        // Prompt sizes are whole token counts: the JSON form stores them as integers, and a fractional knot would move there.
        Assert.Contains("100.5", Assert.Throws<ArgumentException>(() => EnergyModel.Create([new(100.5, 10), new(200, 20)], 1)).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => EnergyModel.Create([new(1e10, 10)], 1));
        // Encoding a prompt takes energy: a knot below 0 J once made queries cost 0 J.
        Assert.Contains("-100 J", Assert.Throws<ArgumentException>(() => EnergyModel.Create([new(1, 10), new(32, -100)], 1)).Message, StringComparison.Ordinal);
        Assert.Equal("MinimumDistinctOutputLengths", Assert.Throws<ArgumentOutOfRangeException>(() => EnergyModel.Fit(Samples(), new EnergyFitOptions { MinimumDistinctOutputLengths = 1 })).ParamName);
    }

    [Fact]
    public void Fit_NegativeEnergyPerToken_IsRefusedWithAdvice()
    {
        // Energy that falls with the output length: counter noise larger than a token's energy.
        var samples = from p in new[] { 1, 512 } from o in new[] { 1, 8, 16 } select new ProfilingSample(p, o, 0.01 * o) { EnergyJoules = 10 - (0.1 * o) };
        var ex = Assert.Throws<ArgumentException>(() => EnergyModel.Fit(samples));
        Assert.Equal("samples", ex.ParamName);
        Assert.Contains("below 0", ex.Message, StringComparison.Ordinal);
        Assert.Contains("longer outputs", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Fit_EnergiesInMillijoules_AreRefusedSayingJoules()
    {
        // NVML's raw millijoules make the 400 W decode 400 kW, more than any board draws.
        var samples = Samples().Select(s => s with { EnergyJoules = s.EnergyJoules * 1000 }).ToList();
        var ex = Assert.Throws<ArgumentException>(() => EnergyModel.Fit(samples));
        Assert.Equal("samples", ex.ParamName);
        Assert.Contains("400000 W", ex.Message, StringComparison.Ordinal);
        Assert.Contains("must be in joules", ex.Message, StringComparison.Ordinal);
        Assert.Contains("millijoules", ex.Message, StringComparison.Ordinal);

        // Eight GPUs' summed joules (3.2 kW here) are still fitted.
        Assert.Equal(64, EnergyModel.Fit(Samples().Select(s => s with { EnergyJoules = s.EnergyJoules * 8 })).PerOutputTokenJoules, 1e-6);
    }

    [Fact]
    public void Fit_OneOutputLength_SaysToSweepOutputs()
    {
        var samples = Samples().Where(s => s.OutputTokens == 8).ToList();
        var ex = Assert.Throws<ArgumentException>(() => EnergyModel.Fit(samples));
        Assert.Contains("output lengths", ex.Message, StringComparison.Ordinal);
    }

    private sealed class EnergyLogger : ILogger<EnergyModel>
    {
        private readonly ListLogger _inner = new();

        public List<string> Messages => _inner.Messages;

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            => _inner.Log(logLevel, eventId, state, exception, formatter);
    }
}
