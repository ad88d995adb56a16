namespace LlmEff.Core.Evaluation;

/// <summary>
/// A fully measured grid of configurations (for example the authors' Megatron logs: 27 prompt sizes × 10 output
/// lengths) used as the space to profile from: a design picks some points, a model is fitted on them, and the rest
/// are held out to measure its error.
/// </summary>
public sealed class ProfilingGrid
{
    private readonly Dictionary<(int P, int O), double> _runtimes;

    /// <summary>Builds the grid from samples (several trials of a configuration are averaged).</summary>
    /// <exception cref="ArgumentException">
    /// No samples, a sample a fit would refuse (negative tokens, <c>o = 0</c>, a runtime that is not finite and positive;
    /// named as <c>samples[i]</c>), or a grid that is not fully measured (every prompt size at every output length).
    /// </exception>
    public ProfilingGrid(string name, IEnumerable<ProfilingSample> samples)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(samples);
        var list = samples.ToList();
        if (list.Count == 0)
        {
            throw new ArgumentException($"The grid '{name}' has no samples; give it a fully measured grid (every prompt size at every output length).", nameof(samples));
        }

        try
        {
            // The same checks as a fit's, so a bad row is named here rather than as "no samples to fit" later.
            RuntimeModelFitter.Validate(list);
        }
        catch (ArgumentException ex)
        {
            throw new ArgumentException($"The grid '{name}': {ex.Message.Replace($" (Parameter '{ex.ParamName}')", string.Empty, StringComparison.Ordinal)}", nameof(samples), ex);
        }

        _runtimes = list.GroupBy(s => (s.PromptTokens, s.OutputTokens)).ToDictionary(g => g.Key, g => g.Average(s => s.RuntimeSeconds));
        Name = name;
        PromptTokens = _runtimes.Keys.Select(k => k.P).Distinct().Order().ToArray();
        OutputTokens = _runtimes.Keys.Select(k => k.O).Distinct().Order().ToArray();
        var missing = PromptTokens.SelectMany(p => OutputTokens.Select(o => (P: p, O: o))).Where(k => !_runtimes.ContainsKey(k)).ToList();
        if (missing.Count > 0)
        {
            throw new ArgumentException(
                $"The grid '{name}' is not fully measured: {missing.Count} of {PromptTokens.Count * OutputTokens.Count} configurations are missing (first p = {missing[0].P}, o = {missing[0].O}); measure every prompt size at every output length, or drop the incomplete prompt sizes.",
                nameof(samples));
        }
    }

    /// <summary>Name (e.g. the file it came from).</summary>
    public string Name { get; }

    /// <summary>Distinct prompt sizes.</summary>
    public IReadOnlyList<int> PromptTokens { get; }

    /// <summary>Distinct output lengths.</summary>
    public IReadOnlyList<int> OutputTokens { get; }

    /// <summary>Number of configurations.</summary>
    public int Count => _runtimes.Count;

    /// <summary>
    /// The clock step the grid's runtimes are recorded at, read off the values (e.g. 0.001 for logs in whole
    /// milliseconds); 0 where none is detected (a continuous clock). The fit's error estimate widens short held-out
    /// queries by it (<see cref="CrossValidationReport.MeasurementResolutionSeconds"/>).
    /// </summary>
    public double MeasurementResolutionSeconds => MeasurementResolution.DetectStepSeconds(_runtimes.Values);

    /// <summary>The measured runtime of a configuration, as a sample.</summary>
    /// <exception cref="KeyNotFoundException">The grid does not hold that configuration.</exception>
    public ProfilingSample Measure(int promptTokens, int outputTokens)
        => _runtimes.TryGetValue((promptTokens, outputTokens), out var t)
            ? new ProfilingSample(promptTokens, outputTokens, t) { Source = Name }
            : throw new KeyNotFoundException($"The grid '{Name}' has no measurement at p = {promptTokens}, o = {outputTokens}.");

    /// <summary>Every configuration of the grid as samples.</summary>
    public IEnumerable<ProfilingSample> All() => _runtimes.OrderBy(k => k.Key).Select(k => new ProfilingSample(k.Key.P, k.Key.O, k.Value) { Source = Name });

    /// <summary>Of the configurations not in <paramref name="design"/>, the share whose prompt size the design never measured.</summary>
    public double ShareAtUnprofiledPromptSizes(IEnumerable<ProfilingSample> design)
    {
        ArgumentNullException.ThrowIfNull(design);
        var list = design.ToList();
        var prompts = list.Select(s => s.PromptTokens).ToHashSet();
        var held = Unmeasured(list);
        return held.Count == 0 ? 0 : held.Count(k => !prompts.Contains(k.PromptTokens)) / (double)held.Count;
    }

    /// <summary>The configurations of the grid that <paramref name="design"/> did not measure (the held-out set), in grid order.</summary>
    public IReadOnlyList<(int PromptTokens, int OutputTokens)> Unmeasured(IEnumerable<ProfilingSample> design)
    {
        ArgumentNullException.ThrowIfNull(design);
        var used = design.Select(s => (s.PromptTokens, s.OutputTokens)).ToHashSet();
        return _runtimes.Keys.Where(k => !used.Contains(k)).Order().ToArray();
    }

    /// <summary>Errors of <paramref name="model"/> on every configuration not in <paramref name="design"/>.</summary>
    public ErrorSummary HeldOutError(RuntimeModel model, IEnumerable<ProfilingSample> design)
    {
        ArgumentNullException.ThrowIfNull(model);
        var used = design.Select(s => (s.PromptTokens, s.OutputTokens)).ToHashSet();
        var held = All().Where(s => !used.Contains((s.PromptTokens, s.OutputTokens))).ToList();
        if (held.Count == 0)
        {
            throw new ArgumentException($"The design covers every configuration of the grid '{Name}', so nothing is held out to measure the error; use a grid with more prompt sizes or output lengths than the design.", nameof(design));
        }

        return ErrorSummary.Evaluate(model, held);
    }
}
