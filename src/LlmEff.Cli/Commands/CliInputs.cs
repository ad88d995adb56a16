using LlmEff.Core;
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
    /// The accelerator a model's idealized cost and energy default to: a built-in accelerator its metadata names exactly
    /// (roofline estimates), else for idealized models the H100-SXM or H200 that NVML named (profiles measured by
    /// <c>profile torch</c>) or the 80-GB A100 for models measured on A100s (Table 3), else none: denoised
    /// API models run on unknown hardware and get a cost only when the user names one.
    /// </summary>
    public static Accelerator? DefaultAccelerator(RuntimeModel model)
    {
        var hardware = model.Metadata.Hardware;
        var exact = Accelerators.All.FirstOrDefault(a => string.Equals(a.Name, hardware, StringComparison.OrdinalIgnoreCase));
        if (exact is not null)
        {
            return exact;
        }

        if (model.Metadata.Metric != RuntimeMetric.Idealized || hardware is null)
        {
            return null;
        }

        // NVML's names of the GPUs this project profiled on ("NVIDIA H100 80GB HBM3" is the SXM5 part; PCIe and NVL
        // variants have other power limits and are left to --accelerator).
        if (hardware.Contains("H100", StringComparison.Ordinal) && !hardware.Contains("PCIe", StringComparison.OrdinalIgnoreCase) && !hardware.Contains("NVL", StringComparison.Ordinal))
        {
            return Accelerators.H100_SXM;
        }

        if (hardware.Contains("H200", StringComparison.Ordinal) && !hardware.Contains("NVL", StringComparison.Ordinal))
        {
            return Accelerators.H200;
        }

        return hardware.Contains("A100", StringComparison.Ordinal) ? Accelerators.A100_80GB : null;
    }

    /// <summary>Looks up a built-in accelerator, suggesting the closest names when unknown.</summary>
    public static Accelerator Accelerator(string name)
        => Accelerators.All.FirstOrDefault(a => string.Equals(a.Name, name.Trim(), StringComparison.OrdinalIgnoreCase))
           ?? throw new KeyNotFoundException($"unknown accelerator '{name}'. {Models.NameSuggestions.Describe(name, Accelerators.All.Select(a => a.Name))}");
}
