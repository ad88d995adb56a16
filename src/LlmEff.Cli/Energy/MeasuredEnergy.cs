using LlmEff.Core;

namespace LlmEff.Cli.Energy;

/// <summary>
/// A measured energy model beside a runtime model (issue 14): <c>E(p, o) = E_pe(p) + (o − 1)·e</c> in joules, held as a
/// <see cref="RuntimeModel"/> whose "seconds" are joules (as <c>TorchProfile.FitEnergy</c> and <c>EnergyModel.Joules</c>
/// produce it), with the powers measured around it. Stored as the runtime model's companion <c>&lt;model&gt;.energy.json</c>.
/// </summary>
/// <param name="Joules">The fitted energy curve: <c>PromptEncodingSeconds(p)</c> is <c>E_pe(p)</c> in J, <c>PerOutputTokenSeconds</c> is <c>e</c> in J/token.</param>
internal sealed record MeasuredEnergy(RuntimeModel Joules)
{
    /// <summary>Accelerators whose energy each sample sums. Default 1.</summary>
    public int AcceleratorCount { get; init; } = 1;

    /// <summary>Idle power of one accelerator measured before the run (W), when known.</summary>
    public double? IdlePowerWatts { get; init; }

    /// <summary>The accelerator's board power limit read while measuring (W), when known.</summary>
    public double? BoardPowerWatts { get; init; }

    /// <summary>Update interval of the energy counter (s), when known.</summary>
    public double? CounterIntervalSeconds { get; init; }

    /// <summary>Measured energy of one query in joules, summed over the accelerators.</summary>
    public double PredictJoules(int promptTokens, int outputTokens) => Joules.Predict(promptTokens, outputTokens);

    /// <summary><c>e</c>: measured joules per output token after the first.</summary>
    public double PerOutputTokenJoules => Joules.PerOutputTokenSeconds;

    /// <summary>The companion path of a runtime-model file: <c>dir/X.json</c> → <c>dir/X.energy.json</c>.</summary>
    public static string CompanionPath(string modelPath)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(modelPath);
        return Path.ChangeExtension(modelPath, null) + ".energy.json";
    }
}
