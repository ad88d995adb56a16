using LlmEff.Core;
using static TorchSharp.torch;

namespace LlmEff.Profiling.Torch.Tests.Profiling;

[Collection(CudaCollection.Name)]
public sealed class EnergyTests
{
    private static readonly ProfilingPlan Plan = new() { PromptTokens = [1, 8], OutputTokens = [1, 2, 4], Trials = 1, WarmupRuns = 0 };

    [TorchFact]
    public void Energy_model_fit_recovers_prompt_and_per_token_energy_from_synthetic_samples()
    {
        // E(p, o) = E_pe(p) + (o - 1)·e with E_pe(1) = 0.8 J, E_pe(512) = 3.0 J, e = 0.45 J per token (made-up values).
        var samples = new List<ProfilingSample>();
        foreach (var (p, epe) in new[] { (1, 0.8), (512, 3.0) })
        {
            foreach (var o in new[] { 1, 2, 4, 8, 16 })
            {
                samples.Add(new ProfilingSample(p, o, 0.01 * o) { Trial = 0, EnergyJoules = epe + ((o - 1) * 0.45) });
            }
        }

        // Energy on the first trial only (TorchProfilerOptions.EnergyTrials = 1): the second trial's samples carry none.
        samples.AddRange(samples.Select(s => s with { Trial = 1, EnergyJoules = null }).ToList());
        var profile = new TorchProfile(TinyArchitectures.Gpt, ModelPrecision.BFloat16, Plan, samples, "test GPU", "test", DateTimeOffset.UnixEpoch)
        {
            IdlePowerWatts = 60,
            BoardPowerWatts = 700,
            EnergyCounterIntervalSeconds = 0.1,
            EnergyCounterResolutionJoules = GpuEnergyMeter.CounterResolutionJoules,
        };
        Assert.True(profile.HasEnergy);
        var energy = profile.FitEnergy();
        Assert.Equal(0.45, energy.PerOutputTokenJoules, 1e-9);
        Assert.Equal(0.8, energy.PredictPromptEncodingJoules(1), 1e-9);
        Assert.Equal(3.0, energy.PredictPromptEncodingJoules(512), 1e-9);
        Assert.Equal(1.0, energy.RSquared, 1e-9);
        Assert.Equal(1, energy.AcceleratorCount);
        Assert.Equal(60, energy.IdlePowerWatts);
        Assert.Equal(700, energy.BoardPowerWatts);
        Assert.Equal(0.1, energy.CounterUpdateIntervalSeconds);
        Assert.Equal(0.001, energy.CounterResolutionJoules);
        Assert.Equal(TinyArchitectures.Gpt.Name, energy.Metadata.ModelName);
        Assert.Equal("test GPU", energy.Metadata.Hardware);
        Assert.Equal(DateTimeOffset.UnixEpoch, energy.Metadata.MeasuredUtc);
        Assert.StartsWith("10 of 20 samples carry energy", energy.Metadata.Notes, StringComparison.Ordinal);
    }

    [TorchFact]
    public void Cpu_profiles_carry_no_energy_and_fitting_energy_says_why()
    {
        var options = new TorchProfilerOptions { Device = "cpu", Model = new DecoderOptions { Precision = ModelPrecision.Float32 } };
        var profile = new TorchProfiler(options).Run(TinyArchitectures.Gpt, Plan, cancellationToken: TestContext.Current.CancellationToken);
        Assert.All(profile.Samples, s => Assert.Null(s.EnergyJoules));
        Assert.Null(profile.IdlePowerWatts);
        Assert.False(profile.HasEnergy);
        var ex = Assert.Throws<InvalidOperationException>(() => profile.FitEnergy());
        Assert.Contains("EnergyJoules", ex.Message, StringComparison.Ordinal);
    }

    [TorchFact]
    public void Cuda_energy_counter_moves_and_a_profile_carries_energy()
    {
        if (!cuda.is_available())
        {
            Assert.Skip("CUDA is not available on this machine.");
        }

        var meter = GpuEnergyMeter.TryOpen(0, out var reason);
        Assert.True(meter is not null, reason);
        Assert.InRange(meter.CounterIntervalSeconds, 1e-4, 1.0);
        Assert.Equal(10, meter.RepeatsFor(meter.CounterIntervalSeconds, 10));
        Assert.InRange(meter.AveragePowerWatts(0.3), 10, 2000);
        Assert.InRange(meter.Gpu.PowerLimitWatts() ?? 0, 100, 2000);

        var options = new TorchProfilerOptions { Device = "cuda:0", Model = new DecoderOptions { Precision = ModelPrecision.Float32 } };
        var profile = new TorchProfiler(options).Run(TinyArchitectures.Llama, Plan, cancellationToken: TestContext.Current.CancellationToken);
        Assert.All(profile.Samples, s => Assert.True(s.EnergyJoules > 0, $"p={s.PromptTokens} o={s.OutputTokens}: {s.EnergyJoules}"));
        Assert.NotNull(profile.IdlePowerWatts);
    }
}
