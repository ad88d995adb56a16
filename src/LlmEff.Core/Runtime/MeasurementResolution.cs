namespace LlmEff.Core;

/// <summary>
/// The clock resolution a set of runtimes was recorded at, read off the values themselves: logs that round to the
/// millisecond (the Megatron logs) hold only whole milliseconds, and a held-out measurement then deviates from any
/// prediction by its own rounding and by that of the measurements the prediction rests on.
/// </summary>
internal static class MeasurementResolution
{
    /// <summary>Fewest distinct runtimes that count as evidence of a step (a handful of round numbers may be chance).</summary>
    internal const int MinimumDistinctValues = 8;

    /// <summary>
    /// The largest decimal step (0.1 s, 0.01 s, … 1 ns) of which every runtime is a whole multiple, when at least
    /// <see cref="MinimumDistinctValues"/> runtimes differ and the step is at most a tenth of the smallest runtime; 0 otherwise
    /// (a continuous clock, too few values, or a step so coarse that the values are more likely round by design).
    /// </summary>
    public static double DetectStepSeconds(IEnumerable<double> runtimesSeconds)
    {
        var values = runtimesSeconds.Distinct().ToArray();
        if (values.Length < MinimumDistinctValues)
        {
            return 0;
        }

        var smallest = values.Min();
        for (var k = 1; k <= 9; k++)
        {
            var step = Math.Pow(10, -k);
            if (step > smallest / 10)
            {
                continue;
            }

            // A whole multiple up to the binary rounding of a decimal value read from text.
            if (values.All(v => Math.Abs((v / step) - Math.Round(v / step)) < 1e-6))
            {
                return step;
            }
        }

        return 0;
    }
}
