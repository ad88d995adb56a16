using System.Globalization;
using LlmEff.Core.Analysis;
using LlmEff.Core.Architecture;
using LlmEff.Core.Hardware;

namespace LlmEff.Core.Metrics;

/// <summary>
/// Predicts the paper's runtime model from first principles (the roofline of Williams et al. 2009, which §3.2 uses to
/// explain the shape of <c>PE</c>): a forward pass takes
/// <c>max(FLOPs / (n · peak · e_c), bytes / (n · bandwidth · e_m))</c> on <c>n</c> accelerators. <c>PE(p)</c> is
/// a prompt pass evaluated at knots, <c>g</c> a one-token pass; the result is an ordinary <see cref="RuntimeModel"/>.
/// Communication between accelerators is not modelled separately; calibration folds it into the efficiencies.
/// </summary>
public static class RooflineEstimator
{
    /// <summary>Seconds of one forward pass of <paramref name="newTokens"/> tokens over <paramref name="cachedTokens"/> cached ones (batch 1).</summary>
    public static double ForwardPassSeconds(TransformerArchitecture architecture, Accelerator accelerator, int acceleratorCount, int newTokens, int cachedTokens, RooflineOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        ArgumentNullException.ThrowIfNull(accelerator);
        architecture.Validate();
        ArgumentOutOfRangeException.ThrowIfLessThan(acceleratorCount, 1);
        var o = (options ?? RooflineOptions.Default).Validate();
        accelerator.Validate();
        var (compute, memory) = Times(architecture, accelerator, acceleratorCount, newTokens, cachedTokens, o);
        return Math.Max(compute, memory);
    }

    /// <summary>
    /// The roofline prediction as a <see cref="RuntimeModel"/>: <c>PE</c> knots at <see cref="RooflineOptions.PromptKnots"/>,
    /// <c>g</c> at <see cref="RooflineOptions.GenerationContextTokens"/>, no overhead, metadata marking it a roofline estimate.
    /// </summary>
    /// <param name="architecture">The model.</param>
    /// <param name="accelerator">The accelerator type.</param>
    /// <param name="acceleratorCount"><c>n</c>, e.g. from <see cref="AcceleratorPlanner.MinimumAccelerators"/>.</param>
    /// <param name="options">Efficiencies and knots; <see cref="RooflineOptions.Default"/> (ideal roofline) when null.</param>
    public static RuntimeModel Estimate(TransformerArchitecture architecture, Accelerator accelerator, int acceleratorCount, RooflineOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        ArgumentNullException.ThrowIfNull(accelerator);
        architecture.Validate();
        var o = (options ?? RooflineOptions.Default).Validate();
        var knots = Knots(architecture, o)
            .Select(p => (p, ForwardPassSeconds(architecture, accelerator, acceleratorCount, p, 0, o)))
            .ToArray();
        var g = ForwardPassSeconds(architecture, accelerator, acceleratorCount, 1, Math.Min(o.GenerationContextTokens, architecture.MaxContextTokens), o);
        var metadata = new RuntimeModelMetadata
        {
            ModelName = architecture.Name,
            Metric = RuntimeMetric.Idealized,
            Hardware = accelerator.Name,
            AcceleratorCount = acceleratorCount,
            Software = "roofline estimate (no profiling)",
            Source = "LlmEff RooflineEstimator: max(FLOPs/(n*peak*e_c), bytes/(n*bandwidth*e_m)) per forward pass",
            Emulated = true,
            Notes = string.Create(CultureInfo.InvariantCulture, $"roofline estimate; e_c = {o.ComputeEfficiency:G4}, e_m = {o.MemoryEfficiency:G4}, weights {o.Precision.WeightBytesPerParameter} B/param, g at {o.GenerationContextTokens} cached tokens"),
        };
        return RuntimeModel.Create(knots, g, 0, metadata);
    }

    /// <summary>
    /// Fits the efficiencies to a measured (fitted) <see cref="RuntimeModel"/> of the same model and hardware:
    /// <c>e_m</c> makes the memory-bound one-token pass take the measured <c>g</c>; <c>e_c</c> is the least-squares
    /// slope through the origin of the measured <c>PE</c> against ideal compute time over the knots that are
    /// compute-bound (measured <c>PE</c> more than 10% above the calibrated memory time). With no compute-bound knot,
    /// <c>e_c</c> keeps its value from <paramref name="baseOptions"/>.
    /// </summary>
    /// <returns><paramref name="baseOptions"/> with the fitted efficiencies.</returns>
    public static RooflineOptions Calibrate(TransformerArchitecture architecture, Accelerator accelerator, int acceleratorCount, RuntimeModel measured, RooflineOptions? baseOptions = null)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        ArgumentNullException.ThrowIfNull(accelerator);
        architecture.Validate();
        ArgumentNullException.ThrowIfNull(measured);
        ArgumentOutOfRangeException.ThrowIfLessThan(acceleratorCount, 1);
        var o = (baseOptions ?? RooflineOptions.Default).Validate();
        accelerator.Validate();
        if (measured.PerOutputTokenSeconds <= 0)
        {
            throw new ArgumentException($"The measured model has g = {measured.PerOutputTokenSeconds} s; calibration needs a positive per-output-token time.", nameof(measured));
        }

        var ideal = o with { ComputeEfficiency = 1, MemoryEfficiency = 1 };
        var context = Math.Min(o.GenerationContextTokens, architecture.MaxContextTokens);
        var (_, idealMemory) = Times(architecture, accelerator, acceleratorCount, 1, context, ideal);
        var memoryEfficiency = idealMemory / measured.PerOutputTokenSeconds;

        double sxy = 0, sxx = 0;
        foreach (var knot in measured.PromptEncoding.Knots)
        {
            var p = (int)knot.X;
            if (p < 1 || knot.Y <= 0)
            {
                continue;
            }

            var (idealCompute, idealMem) = Times(architecture, accelerator, acceleratorCount, p, 0, ideal);
            if (knot.Y > 1.10 * idealMem / memoryEfficiency)
            {
                sxy += idealCompute * knot.Y;
                sxx += idealCompute * idealCompute;
            }
        }

        var computeEfficiency = sxy > 0 ? sxx / sxy : o.ComputeEfficiency;
        return (o with { ComputeEfficiency = computeEfficiency, MemoryEfficiency = memoryEfficiency }).Validate();
    }

    private static (double ComputeSeconds, double MemorySeconds) Times(TransformerArchitecture a, Accelerator acc, int n, int newTokens, int cachedTokens, RooflineOptions o)
    {
        var flops = TransformerFlops.ForwardPass(a, newTokens, cachedTokens, 1, o.Flops);
        var bytes = MemoryTraffic.ForwardPass(a, newTokens, cachedTokens, 1, o.Precision).TotalBytes;
        return (flops / (n * acc.PeakDenseFlopsPerSecond * o.ComputeEfficiency), bytes / (n * acc.MemoryBandwidthBytesPerSecond * o.MemoryEfficiency));
    }

    private static IEnumerable<int> Knots(TransformerArchitecture a, RooflineOptions o)
    {
        var knots = (o.PromptKnots ?? RooflineOptions.DefaultPromptKnots).Where(p => p <= a.MaxContextTokens).Distinct().Order().ToList();
        if (knots.Count == 0)
        {
            knots.Add(Math.Min(a.MaxContextTokens, (o.PromptKnots ?? RooflineOptions.DefaultPromptKnots).Min()));
        }

        return knots;
    }
}
