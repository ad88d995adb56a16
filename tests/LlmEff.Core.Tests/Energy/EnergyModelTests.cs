using LlmEff.Core.Energy;

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
        var model = EnergyModel.Fit(Samples(), idlePowerWatts: 72);

        Assert.Equal(400 * 0.02, model.PerOutputTokenJoules, 1e-9);         // 8 J per output token
        Assert.Equal(650 * (0.02 + 0.1024), model.PromptEncodingJoules(1024), 1e-9);
        Assert.Equal(Energy(700, 33), model.Predict(700, 33), 1e-9);
        Assert.Equal(1.0, model.RSquared, 1e-12);
        Assert.Equal(400, model.DecodePowerWatts, 1e-6);

        // Idle share: 72 W for the query's runtime; the rest is dynamic.
        Assert.Equal(72 * Runtime(700, 33), model.IdleJoules(700, 33), 1e-9);
        Assert.Equal(Energy(700, 33) - (72 * Runtime(700, 33)), model.DynamicJoules(700, 33), 1e-9);

        // The paper's idealized energy with a 700 W board: 700/400 looser than measured during decode-dominated queries.
        Assert.Equal(700 * Runtime(1, 1000) / Energy(1, 1000), model.IdealizedToMeasuredRatio(1, 1000, 700), 1e-9);
    }

    [Fact]
    public void Fit_NoisyEnergy_RSquaredBelowOne()
    {
        var model = EnergyModel.Fit(Samples(r => 0.05 * (r.NextDouble() - 0.5)));
        Assert.InRange(model.RSquared, 0.95, 0.99999);
        Assert.Equal(8.0, model.PerOutputTokenJoules, 0.2);
        Assert.Equal(0.0, model.IdleJoules(1, 1));
    }

    [Fact]
    public void Fit_MissingOrBadEnergy_Throws()
    {
        var samples = Samples();
        samples[3] = samples[3] with { EnergyJoules = null };
        var ex = Assert.Throws<ArgumentException>(() => EnergyModel.Fit(samples));
        Assert.Contains("samples[3]", ex.Message, StringComparison.Ordinal);

        samples[3] = samples[3] with { EnergyJoules = double.NaN };
        Assert.Throws<ArgumentException>(() => EnergyModel.Fit(samples));
        Assert.Throws<ArgumentOutOfRangeException>(() => EnergyModel.Fit(Samples(), idlePowerWatts: -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => EnergyModel.Fit(Samples(), acceleratorCount: 0));
    }
}
