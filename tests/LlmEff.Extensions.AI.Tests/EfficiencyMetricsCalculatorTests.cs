using LlmEff.Core;
using LlmEff.Core.Catalog;
using LlmEff.Core.Energy;
using LlmEff.Core.Hardware;
using Microsoft.Extensions.AI;

namespace LlmEff.Extensions.AI.Tests;

public sealed class EfficiencyMetricsCalculatorTests
{
    [Fact]
    public void Reported_usage_gives_every_metric_from_table3()
    {
        var calculator = new EfficiencyMetricsCalculator(Expected.Options());

        var m = calculator.Compute(1.25, new UsageDetails { InputTokenCount = 512, OutputTokenCount = 10 });

        Assert.Equal(TokenUsageStatus.Reported, m.UsageStatus);
        Assert.Equal(1.25, m.RawRuntimeSeconds);
        Assert.Equal(512, m.PromptTokens);
        Assert.Equal(10, m.OutputTokens);
        Assert.Equal(Expected.Idealized512x10Seconds, m.IdealizedRuntimeSeconds!.Value, Expected.Tolerance);
        Assert.Equal(Expected.Denoised512x10Seconds, m.DenoisedRuntimeSeconds!.Value, Expected.Tolerance);
        Assert.Equal(Expected.CostUsd(Expected.Idealized512x10Seconds), m.IdealizedCostUsd!.Value, Expected.Tolerance);
        Assert.Equal(Expected.EnergyJoules(Expected.Idealized512x10Seconds), m.IdealizedEnergyJoules!.Value, 1e-9);
        Assert.Equal("A100-80GB", m.AcceleratorName);
        Assert.Equal(8, m.AcceleratorCount); // from the profile's metadata (Table 1: davinci on 8 GPUs)
        Assert.Equal(Expected.Davinci, m.IdealizedProfileName);
        Assert.False(m.PromptExtrapolated);
        Assert.True(m.HasUsage);
    }

    [Fact]
    public void Zero_output_tokens_is_a_non_generating_call_priced_at_prompt_encoding()
    {
        var calculator = new EfficiencyMetricsCalculator(Expected.Options());

        var m = calculator.Compute(0.5, 1024, 0);

        // HELM: o = 0 costs PE(p) (+ overhead, none here); Table 3 davinci PE(1024) = 0.323 s, denoised 0.033 s.
        Assert.Equal(TokenUsageStatus.NoOutputTokens, m.UsageStatus);
        Assert.Equal(0, m.OutputTokens);
        Assert.Equal(0.323, m.IdealizedRuntimeSeconds!.Value, Expected.Tolerance);
        Assert.Equal(0.033, m.DenoisedRuntimeSeconds!.Value, Expected.Tolerance);
        Assert.Equal(Expected.EnergyJoules(0.323), m.IdealizedEnergyJoules!.Value, 1e-9);
    }

    [Theory]
    [InlineData(null, 10L)]
    [InlineData(512L, null)]
    [InlineData(-1L, 10L)]
    [InlineData(512L, -3L)]
    [InlineData(512L, 3_000_000_000L)]
    public void Missing_or_unusable_usage_leaves_idealized_metrics_null(long? p, long? o)
    {
        var calculator = new EfficiencyMetricsCalculator(Expected.Options());

        var m = calculator.Compute(0.75, p, o);

        Assert.Equal(TokenUsageStatus.Missing, m.UsageStatus);
        Assert.False(m.HasUsage);
        Assert.Equal(0.75, m.RawRuntimeSeconds);
        Assert.Null(m.IdealizedRuntimeSeconds);
        Assert.Null(m.DenoisedRuntimeSeconds);
        Assert.Null(m.IdealizedCostUsd);
        Assert.Null(m.IdealizedEnergyJoules);
    }

    [Fact]
    public void No_usage_object_is_missing()
    {
        var m = new EfficiencyMetricsCalculator(Expected.Options()).Compute(0.1, usage: null);
        Assert.Equal(TokenUsageStatus.Missing, m.UsageStatus);
        Assert.Null(m.PromptTokens);
    }

    [Fact]
    public void Explicit_accelerator_count_overrides_the_profile_and_RuntimesOnly_gives_runtimes_only()
    {
        var options = Expected.Options();
        options.Accelerator = Accelerators.H100_SXM;
        options.AcceleratorCount = 2;
        var m = new EfficiencyMetricsCalculator(options).Compute(1, 512, 10);
        Assert.Equal(Expected.Idealized512x10Seconds * 2 * 700, m.IdealizedEnergyJoules!.Value, 1e-9);
        Assert.Equal(Expected.Idealized512x10Seconds * 2 * (98.32 / 8 / 3600), m.IdealizedCostUsd!.Value, Expected.Tolerance);

        var runtimesOnly = new EfficiencyMetricsOptions { IdealizedRuntime = Expected.Idealized, RuntimesOnly = true };
        var r = new EfficiencyMetricsCalculator(runtimesOnly).Compute(1, 512, 10);
        Assert.Equal(Expected.Idealized512x10Seconds, r.IdealizedRuntimeSeconds!.Value, Expected.Tolerance);
        Assert.Null(r.IdealizedCostUsd);
        Assert.Null(r.IdealizedEnergyJoules);
        Assert.Null(r.DenoisedRuntimeSeconds);
        Assert.Null(r.AcceleratorCount);
    }

    [Fact]
    public void Measured_energy_model_gives_measured_joules_beside_the_idealized_ones()
    {
        // E(p, o) = E_pe(p) + (o - 1)·e with E_pe(512) = 40 J and e = 3 J per output token.
        var options = Expected.Options();
        options.Energy = EnergyModel.Create([new(1, 10.0), new(512, 40.0)], 3.0);
        var m = new EfficiencyMetricsCalculator(options).Compute(1, 512, 10);
        Assert.Equal(40 + (9 * 3.0), m.MeasuredEnergyJoules!.Value, 1e-12);
        Assert.NotNull(m.IdealizedEnergyJoules);

        Assert.Null(new EfficiencyMetricsCalculator(options).Compute(1, null, 10).MeasuredEnergyJoules);
        Assert.Null(new EfficiencyMetricsCalculator(Expected.Options()).Compute(1, 512, 10).MeasuredEnergyJoules);
    }

    [Fact]
    public void Prompt_outside_the_profiled_sizes_is_flagged_extrapolated()
    {
        var m = new EfficiencyMetricsCalculator(Expected.Options()).Compute(1, 4000, 5);
        Assert.True(m.PromptExtrapolated);
    }

    [Fact]
    public void Missing_idealized_profile_is_rejected()
    {
        var ex = Assert.Throws<ArgumentException>(() => new EfficiencyMetricsCalculator(new EfficiencyMetricsOptions()));
        Assert.Contains("IdealizedRuntime is null", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Swapped_profiles_are_rejected_with_the_fix()
    {
        var swapped = new EfficiencyMetricsOptions { IdealizedRuntime = Expected.Denoised };
        var ex = Assert.Throws<ArgumentException>(() => new EfficiencyMetricsCalculator(swapped));
        Assert.Equal("IdealizedRuntime", ex.ParamName);
        Assert.Contains("is a Denoised profile", ex.Message, StringComparison.Ordinal);
        Assert.Contains("pass it as DenoisedRuntime", ex.Message, StringComparison.Ordinal);

        var swappedDenoised = new EfficiencyMetricsOptions { IdealizedRuntime = Expected.Idealized, DenoisedRuntime = Expected.Idealized };
        var ex2 = Assert.Throws<ArgumentException>(() => new EfficiencyMetricsCalculator(swappedDenoised));
        Assert.Equal("DenoisedRuntime", ex2.ParamName);
    }

    [Fact]
    public void Accelerator_count_conflicts_and_bad_values_are_rejected()
    {
        var orphan = new EfficiencyMetricsOptions { IdealizedRuntime = Expected.Idealized, RuntimesOnly = true, AcceleratorCount = 4 };
        Assert.Contains("RuntimesOnly is true", Assert.Throws<ArgumentException>(() => new EfficiencyMetricsCalculator(orphan)).Message, StringComparison.Ordinal);

        var zero = new EfficiencyMetricsOptions { IdealizedRuntime = Expected.Idealized, AcceleratorCount = 0 };
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new EfficiencyMetricsCalculator(zero));
        Assert.Equal(0, ex.ActualValue);

        var unknown = RuntimeModel.Create([(512, 0.1), (1024, 0.2)], 0.01, metadata: new RuntimeModelMetadata { AcceleratorName = "H100-PCIE" });
        var ex2 = Assert.Throws<ArgumentException>(() => new EfficiencyMetricsCalculator(new EfficiencyMetricsOptions { IdealizedRuntime = unknown }));
        Assert.Contains("H100-PCIE", ex2.Message, StringComparison.Ordinal);
        Assert.Contains("'H100-SXM'", ex2.Message, StringComparison.Ordinal);

        var badPrice = new EfficiencyMetricsOptions { IdealizedRuntime = Expected.Idealized, Accelerator = Accelerators.A100_80GB with { HourlyPriceUsd = -1 } };
        Assert.Throws<ArgumentOutOfRangeException>(() => new EfficiencyMetricsCalculator(badPrice));
    }

    [Theory]
    [InlineData(-0.1)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void Bad_raw_runtime_is_rejected(double seconds)
    {
        var calculator = new EfficiencyMetricsCalculator(Expected.Options());
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => calculator.Compute(seconds, 512, 10));
        Assert.Equal("rawRuntimeSeconds", ex.ParamName);
    }

    [Fact]
    public void An_H100_profile_is_priced_as_an_H100_from_its_metadata()
    {
        // The shipped Llama-3-8B profile was measured on one "NVIDIA H100 80GB HBM3" (NVML's name of the SXM5 part).
        var llama = ModelCatalog.GetProfile("llama3-8b-h100-bf16");
        var logger = new ListLogger();
        var calculator = new EfficiencyMetricsCalculator(new EfficiencyMetricsOptions { IdealizedRuntime = llama, Logger = logger });

        var m = calculator.Compute(1, 512, 10);

        var t = llama.Predict(512, 10);
        Assert.Equal("H100-SXM", m.AcceleratorName);
        Assert.Equal(1, m.AcceleratorCount);
        Assert.Equal(t * Accelerators.H100_SXM.BoardPowerWatts, m.IdealizedEnergyJoules!.Value, 1e-12);
        Assert.Equal(t * Accelerators.H100_SXM.PricePerSecondUsd, m.IdealizedCostUsd!.Value, 1e-15);
        Assert.Equal(Accelerators.H100_SXM.HourlyPriceUsd, m.AcceleratorHourlyPriceUsd);
        Assert.Null(m.PricingDefaults);
        Assert.Empty(logger.Messages);
    }

    [Fact]
    public void Accelerator_name_and_price_in_the_metadata_are_used()
    {
        var profile = RuntimeModel.Create(
            [(512, 0.1), (1024, 0.2)],
            0.01,
            metadata: new RuntimeModelMetadata { Metric = RuntimeMetric.Idealized, AcceleratorName = "H200", AcceleratorCount = 2, AcceleratorHourlyPriceUsd = 3.6 });

        var m = new EfficiencyMetricsCalculator(new EfficiencyMetricsOptions { IdealizedRuntime = profile }).Compute(1, 512, 2);

        var t = 0.1 + 0.01;
        Assert.Equal("H200", m.AcceleratorName);
        Assert.Equal(2, m.AcceleratorCount);
        Assert.Equal(3.6, m.AcceleratorHourlyPriceUsd);
        Assert.Equal(t * 2 * (3.6 / 3600), m.IdealizedCostUsd!.Value, 1e-15);
        Assert.Equal(t * 2 * Accelerators.H200.BoardPowerWatts, m.IdealizedEnergyJoules!.Value, 1e-12);
        Assert.Null(m.PricingDefaults);
    }

    [Fact]
    public void A_profile_without_hardware_or_count_is_priced_on_the_defaults_and_says_so()
    {
        var bare = RuntimeModel.Create([(512, 0.1), (1024, 0.2)], 0.01);
        var logger = new ListLogger();

        var calculator = new EfficiencyMetricsCalculator(new EfficiencyMetricsOptions { IdealizedRuntime = bare, Logger = logger });
        var m = calculator.Compute(1, 512, 2);

        Assert.Equal(EfficiencyMetricsOptions.DefaultAccelerator.Name, m.AcceleratorName);
        Assert.Equal(EfficiencyMetricsOptions.DefaultAcceleratorCount, m.AcceleratorCount);
        Assert.Equal(0.11 * Accelerators.A100_80GB.BoardPowerWatts, m.IdealizedEnergyJoules!.Value, 1e-12);
        Assert.Contains("accelerator A100-80GB", m.PricingDefaults, StringComparison.Ordinal);
        Assert.Contains("1 accelerator per request", m.PricingDefaults, StringComparison.Ordinal);
        var log = Assert.Single(logger.Messages);
        Assert.StartsWith("Warning:", log, StringComparison.Ordinal);
        Assert.Contains("accelerator A100-80GB", log, StringComparison.Ordinal);
        Assert.Contains("no accelerator count", log, StringComparison.Ordinal);

        // A count in the options leaves only the accelerator defaulted.
        var counted = new EfficiencyMetricsCalculator(new EfficiencyMetricsOptions { IdealizedRuntime = bare, AcceleratorCount = 4 });
        Assert.DoesNotContain("per request", counted.PricingDefaults, StringComparison.Ordinal);
    }

    [Fact]
    public void An_explicit_accelerator_overrides_the_profiles()
    {
        var llama = ModelCatalog.GetProfile("llama3-8b-h100-bf16");

        var m = new EfficiencyMetricsCalculator(new EfficiencyMetricsOptions { IdealizedRuntime = llama, Accelerator = Accelerators.A100_80GB }).Compute(1, 512, 10);

        Assert.Equal("A100-80GB", m.AcceleratorName);
        Assert.Null(m.PricingDefaults);
    }
}
