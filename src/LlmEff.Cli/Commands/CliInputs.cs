using LlmEff.Core;
using LlmEff.Core.Catalog;
using LlmEff.Core.Hardware;
using LlmEff.Core.Workloads;

namespace LlmEff.Cli.Commands;

/// <summary>Input handling shared by several commands.</summary>
internal static class CliInputs
{
    /// <summary>Reads a workload from CSV (<c>prompt_tokens,output_tokens</c>) or JSON (by extension), or returns the built-in sample.</summary>
    public static Workload ReadWorkload(FileInfo? file)
    {
        if (file is null)
        {
            return Workload.Sample;
        }

        if (!file.Exists)
        {
            throw new FileNotFoundException($"workload file '{file.FullName}' does not exist; pass a CSV (prompt_tokens,output_tokens) or JSON workload, or omit --workload for the built-in sample.", file.FullName);
        }

        return file.Extension.Equals(".json", StringComparison.OrdinalIgnoreCase) ? WorkloadJson.ReadFile(file.FullName) : WorkloadCsv.ReadFile(file.FullName);
    }

    /// <summary>
    /// The accelerator a model's idealized cost and energy default to: what its metadata names
    /// (<see cref="Accelerators.ForProfile"/>); none for denoised API models, which get a cost only when the user names one
    /// or their metadata does.
    /// </summary>
    public static Accelerator? DefaultAccelerator(RuntimeModel model) => Accelerators.ForProfile(model.Metadata);

    /// <summary>Looks up a built-in accelerator, suggesting the closest names when unknown.</summary>
    public static Accelerator Accelerator(string name)
        => Accelerators.All.FirstOrDefault(a => string.Equals(a.Name, name.Trim(), StringComparison.OrdinalIgnoreCase))
           ?? throw new KeyNotFoundException($"unknown accelerator '{name}'. {NameSuggestions.Describe(name, Accelerators.All.Select(a => a.Name))}");
}
