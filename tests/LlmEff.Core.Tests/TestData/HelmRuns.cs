using System.Globalization;
using LlmEff.Core.Serialization;

namespace LlmEff.Core.Tests.TestData;

/// <summary>One row of shared/data/helm-runs/inference_runtimes_and_accuracies_all_scenarios.csv that names a model.</summary>
internal sealed record HelmRun(string Scenario, string Model, double? RawRuntimeSeconds, double? IdealizedRuntimeSeconds, double? Accuracy);

/// <summary>Reads the HELM efficiency–capability runs (quoted CSV; the model is a <c>model=</c> argument inside the scenario string).</summary>
internal static class HelmRuns
{
    public static IReadOnlyList<HelmRun> Read(string path)
    {
        var runs = new List<HelmRun>();
        foreach (var fields in CsvTable.ReadFile(path).Rows)
        {
            var arguments = fields[0];
            var modelStart = arguments.IndexOf("model=", StringComparison.Ordinal);
            if (modelStart < 0)
            {
                continue; // perturbation summaries without a model
            }

            var modelEnd = arguments.IndexOf(',', modelStart);
            var model = modelEnd < 0 ? arguments[(modelStart + 6)..] : arguments[(modelStart + 6)..modelEnd];

            // The scenario is the argument string without the model argument.
            var scenario = (modelEnd < 0 ? arguments[..modelStart] : arguments[..modelStart] + arguments[(modelEnd + 1)..]).TrimEnd(':', ',');
            runs.Add(new HelmRun(scenario, model, Number(fields[1]), Number(fields[2]), Number(fields[7])));
        }

        return runs;
    }

    private static double? Number(string text)
        => double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : null;
}
