using System.Globalization;

namespace LlmEff.Core;

/// <summary>
/// The physicality rules every model LlmEff hands out must meet: the checks behind <see cref="RuntimeModel.Create(PiecewiseLinearFunction, double, double, RuntimeModelMetadata?)"/>
/// and <see cref="RuntimeModel.FromJson"/> (given parameters) and behind <see cref="RuntimeModel.Fit(IEnumerable{ProfilingSample}, RuntimeFitOptions?)"/> (fitted ones).
/// </summary>
internal static class RuntimeModelPhysics
{
    /// <summary>The longest runtime a sample may claim: about 32 years. Anything longer is another unit or another column.</summary>
    public const double MaximumSampleSeconds = 1e9;

    /// <summary>Checks given parameters; throws <see cref="ArgumentException"/>s naming the parameter and the fix.</summary>
    /// <param name="promptEncoding"><c>PE</c> knots.</param>
    /// <param name="perOutputTokenSeconds"><c>g</c>.</param>
    /// <param name="perOutputTokenContextSeconds"><c>g1</c>.</param>
    /// <param name="overheadSeconds">Overhead.</param>
    /// <param name="promptEncodingMode">How PE is read.</param>
    /// <param name="keptNonPhysical">
    /// True for a fitted model saved with its <see cref="RuntimeModel.Warnings"/> (kept with <see cref="RuntimeFitOptions.KeepNonPhysicalFit"/>):
    /// negative <c>g</c> and <c>PE</c> knots are then what the warnings already say, not corruption, so only finiteness is checked for them.
    /// </param>
    /// <param name="contextKneeTokens">The knee <c>c0</c> of <see cref="DecodeModel.ContextHinge"/> in tokens; 0 or more.</param>
    public static void ValidateParameters(PiecewiseLinearFunction promptEncoding, double perOutputTokenSeconds, double perOutputTokenContextSeconds, double overheadSeconds, PromptEncodingMode promptEncodingMode, bool keptNonPhysical = false, int contextKneeTokens = 0)
    {
        ArgumentNullException.ThrowIfNull(promptEncoding);
        var inv = CultureInfo.InvariantCulture;
        foreach (var k in promptEncoding.Knots)
        {
            if (k.X < 0)
            {
                throw new ArgumentOutOfRangeException(nameof(promptEncoding), k.X, string.Create(inv, $"PE knot at p = {k.X} is a negative prompt size; knots are prompt sizes in tokens, 0 or more."));
            }

            if (k.Y < 0 && !keptNonPhysical)
            {
                throw new ArgumentOutOfRangeException(nameof(promptEncoding), k.Y, string.Create(inv, $"PE({k.X}) = {k.Y} s is negative; encoding a prompt takes time, so give PE knots of 0 s or more (refit from samples if these came from a fit)."));
            }
        }

        if (!double.IsFinite(perOutputTokenSeconds) || (perOutputTokenSeconds < 0 && !keptNonPhysical))
        {
            throw new ArgumentOutOfRangeException(nameof(perOutputTokenSeconds), perOutputTokenSeconds, "g must be a finite, non-negative number of seconds per output token.");
        }

        // Beyond what any query takes (as a sample's runtime is bounded): another unit or column, and sums of it overflow.
        if (perOutputTokenSeconds > MaximumSampleSeconds || promptEncoding.Knots.Any(k => k.Y > MaximumSampleSeconds) || overheadSeconds > MaximumSampleSeconds)
        {
            throw new ArgumentOutOfRangeException(
                perOutputTokenSeconds > MaximumSampleSeconds ? nameof(perOutputTokenSeconds) : overheadSeconds > MaximumSampleSeconds ? nameof(overheadSeconds) : nameof(promptEncoding),
                string.Create(inv, $"a time above {MaximumSampleSeconds:G1} s (about 32 years) is in another unit or from another column; give seconds."));
        }

        if (!double.IsFinite(perOutputTokenContextSeconds))
        {
            throw new ArgumentOutOfRangeException(nameof(perOutputTokenContextSeconds), perOutputTokenContextSeconds, "g1 must be a finite number of seconds per context token; pass 0 for the paper's constant-g model.");
        }

        if (contextKneeTokens < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(contextKneeTokens), contextKneeTokens, "The knee c0 is a context in tokens, 0 or more; pass 0 for a per-token time linear in the whole context.");
        }

        if (!double.IsFinite(overheadSeconds) || overheadSeconds < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(overheadSeconds), overheadSeconds, "The overhead must be a finite, non-negative number of seconds; pass 0 for idealized models.");
        }

        if (!Enum.IsDefined(promptEncodingMode))
        {
            throw new ArgumentOutOfRangeException(nameof(promptEncodingMode), promptEncodingMode, "Use Interpolate or HelmNextKeyScaled.");
        }

        if (promptEncodingMode == PromptEncodingMode.HelmNextKeyScaled && promptEncoding.MinX <= 0)
        {
            throw new ArgumentException($"HELM's estimator scales by p / key, so every knot must be at p >= 1; the first knot is at {promptEncoding.MinX.ToString(inv)}. Drop that knot or use PromptEncodingMode.Interpolate.", nameof(promptEncoding));
        }
    }

    /// <summary>
    /// Refuses given parameters (<see cref="RuntimeModel.Create(PiecewiseLinearFunction, double, double, double, PromptEncodingMode, RuntimeModelMetadata?)"/>
    /// and <see cref="RuntimeModel.FromJson"/>) that are each valid but together are not: a per-token time <c>g0 + g1·i</c> that
    /// falls below 0 s, or a runtime below 0 s, within the contexts the model covers. Findings of a kind in
    /// <paramref name="kept"/> (a kept fit's own warnings) are not refused.
    /// </summary>
    /// <returns>The first problem, or null.</returns>
    public static RuntimeFitWarning? FirstGivenProblem(RuntimeModel model, IReadOnlySet<RuntimeFitWarningKind> kept)
        => Check(model, 0, givenParameters: true).FirstOrDefault(w => w.Kind is not RuntimeFitWarningKind.LowRSquared && !kept.Contains(w.Kind));

    /// <summary>What is not physical about a fitted model, in the order: decode time, PE knots, predictions, R².</summary>
    /// <param name="model">The model.</param>
    /// <param name="rSquaredThreshold">R² below this is a finding.</param>
    /// <param name="givenParameters">
    /// True for parameters someone gave (<see cref="RuntimeModel.Create(PiecewiseLinearFunction, double, double, RuntimeModelMetadata?)"/>,
    /// <see cref="RuntimeModel.FromJson"/>): a per-token time of exactly 0 s is then allowed (a table may neglect decode, as
    /// HELM's do with <c>runtime_per_output_token = 0</c>), and only one that falls below 0 s is a finding. A fit whose
    /// decode slope comes out 0 or less measured nothing of decode, so for fits it must be positive.
    /// </param>
    public static List<RuntimeFitWarning> Check(RuntimeModel model, double rSquaredThreshold, bool givenParameters = false)
    {
        var inv = CultureInfo.InvariantCulture;
        var findings = new List<RuntimeFitWarning>();
        var prompts = model.PromptEncoding.Knots.Select(k => (int)k.X).Concat(model.Residuals.Select(r => r.PromptTokens)).Distinct().Order().ToArray();
        var outputs = model.Residuals.Count > 0 ? model.Residuals.Select(r => r.OutputTokens).ToArray() : [1];
        int minO = outputs.Min(), maxO = outputs.Max();

        // Generating at context i costs g0 + g1·i; the profiled contexts run from the smallest prompt to the largest prompt plus the longest output.
        var g0 = model.PerOutputTokenSeconds;
        var g1 = model.PerOutputTokenContextSeconds;
        var lowContext = (double)prompts[0];
        var highContext = (double)prompts[^1] + Math.Max(0, maxO - 2);
        var knee = model.ContextKneeTokens;
        var lowestDecode = Math.Min(g0 + (g1 * Math.Max(0, lowContext - knee)), g0 + (g1 * Math.Max(0, highContext - knee)));
        if (givenParameters ? !(g0 >= 0) || !(lowestDecode >= 0) : !(g0 > 0) || !(lowestDecode > 0))
        {
            var what = g1 == 0
                ? string.Create(inv, $"g = {g0 * 1e3:G4} ms/token is not positive (runtime does not grow with the output length).")
                : knee > 0
                ? string.Create(inv, $"the per-token time g0 + g1·max(0, i − {knee}) = {g0 * 1e3:G4} ms + {g1 * 1e9:G4} ns·max(0, i − {knee}) falls to {lowestDecode * 1e3:G4} ms within the profiled contexts (i = {lowContext:F0} to {highContext:F0}).")
                : string.Create(inv, $"the per-token time g0 + g1·i = {g0 * 1e3:G4} ms + {g1 * 1e9:G4} ns·i falls to {lowestDecode * 1e3:G4} ms within the profiled contexts (i = {lowContext:F0} to {highContext:F0}).");
            findings.Add(new RuntimeFitWarning(
                RuntimeFitWarningKind.NonPositiveDecodeTime,
                what,
                "This usually means too few trials, outputs too short to separate the decode slope from noise, or a mixed-up column (runtime_seconds and output_tokens swapped, or runtimes not in seconds).",
                "Measure every prompt size at output lengths spread out to 64 or more (e.g. o = 1, 16, 64) with 3 or more trials, and check the CSV columns."));
        }

        var negative = model.PromptEncoding.Knots.Where(k => k.Y < 0).ToArray();
        if (negative.Length > 0)
        {
            findings.Add(new RuntimeFitWarning(
                RuntimeFitWarningKind.NegativePromptEncoding,
                "PE is negative at " + string.Join(", ", negative.Select(k => string.Create(inv, $"p = {k.X:F0} ({k.Y * 1e3:G4} ms)"))) + ".",
                "A negative intercept usually means too few trials at short outputs, noise larger than the prompt-encoding time, or an overhead larger than the runtimes it is taken from.",
                "Measure o = 1 and a few short outputs at those prompt sizes with more trials (the fit takes their minimum)."));
        }

        // t(p, o) is linear in p between knots and monotone or concave in o, so its minimum over the profiled range lies at a
        // profiled prompt size and the shortest or longest output.
        (int P, int O, double Seconds)? worst = null;
        foreach (var p in prompts)
        {
            foreach (var o in new[] { minO, maxO })
            {
                double steps = o - 1;
                var t = model.PromptEncoding.Evaluate(p) + (g0 * steps) + (g1 * RuntimeModelFitter.ContextSum(p, o, knee)) + model.OverheadSeconds;
                if (t < 0 && (worst is null || t < worst.Value.Seconds))
                {
                    worst = (p, o, t);
                }
            }
        }

        if (worst is { } w)
        {
            findings.Add(new RuntimeFitWarning(
                RuntimeFitWarningKind.NegativePrediction,
                string.Create(inv, $"The fitted t(p, o) is negative inside the profiled range: t({w.P}, {w.O}) = {w.Seconds * 1e3:G4} ms (predictions clamp it to 0)."),
                "The fitted lines cross zero where they were measured, usually through an intercept or context term fitted to noise.",
                "Measure longer outputs at more prompt sizes with more trials, or fit the paper's constant-g decode model."));
        }

        if (model.RSquared < rSquaredThreshold || double.IsNaN(model.RSquared))
        {
            var worstResidual = model.Residuals.Count > 0 ? model.Residuals.MaxBy(r => Math.Abs(r.RelativeError)) : (SampleResidual?)null;
            var where = worstResidual is { } r
                ? string.Create(inv, $" at p = {r.PromptTokens}, o = {r.OutputTokens} (measured {r.ObservedSeconds:G4} s, fitted {r.PredictedSeconds:G4} s)")
                : string.Empty;
            findings.Add(new RuntimeFitWarning(
                RuntimeFitWarningKind.LowRSquared,
                string.Create(inv, $"R² = {model.RSquared:F4} is below {rSquaredThreshold:G4}."),
                "A low R² usually means noisy samples (contention, too few trials), runtimes not linear in the output length, or a mixed-up column.",
                $"Run 3 or more trials per configuration and take their minimum (TrialAggregation.Minimum), and re-measure the worst-fitting configuration{where}."));
        }

        return findings;
    }
}
