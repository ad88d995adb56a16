using LlmEff.Core.Catalog;

namespace LlmEff.Core.Hardware;

/// <summary>
/// Built-in accelerators. Compute, bandwidth and power are the vendors' datasheet figures (dense fp16/bf16 tensor
/// throughput, i.e. half the "with sparsity" number); memory is what the driver reports. Prices are on-demand
/// per-accelerator rental prices with their source and date: they drift, so pass your own with
/// <c>accelerator with { HourlyPriceUsd = …, PriceSource = …, PriceDate = … }</c>.
/// </summary>
public static class Accelerators
{
    private const long MiB = 1L << 20;

    /// <summary>NVIDIA V100-SXM2-32GB: 125 TFLOP/s, 900 GB/s, 300 W; AWS p3dn.24xlarge $31.212/h ÷ 8.</summary>
    public static Accelerator V100_32GB { get; } = new("V100-32GB", 32768 * MiB, 125e12, 900e9, 300, 31.212 / 8)
    {
        Vendor = "NVIDIA", SpecSource = "NVIDIA V100 datasheet (SXM2); 32,768 MiB per nvidia-smi",
        PriceSource = "AWS EC2 on-demand, p3dn.24xlarge (8 GPUs), us-east-1", PriceDate = new DateOnly(2024, 6, 1),
    };

    /// <summary>NVIDIA A100-SXM4-40GB: 312 TFLOP/s, 1,555 GB/s, 400 W; AWS p4d.24xlarge $32.7726/h ÷ 8.</summary>
    public static Accelerator A100_40GB { get; } = new("A100-40GB", 40960 * MiB, 312e12, 1555e9, 400, 32.7726 / 8)
    {
        Vendor = "NVIDIA", SpecSource = "NVIDIA A100 datasheet (SXM4 40GB); 40,960 MiB per nvidia-smi",
        PriceSource = "AWS EC2 on-demand, p4d.24xlarge (8 GPUs), us-east-1", PriceDate = new DateOnly(2024, 6, 1),
    };

    /// <summary>NVIDIA A100-SXM4-80GB (the paper's GPU): 312 TFLOP/s, 2,039 GB/s, 400 W; AWS p4de.24xlarge $40.9657/h ÷ 8.</summary>
    public static Accelerator A100_80GB { get; } = new("A100-80GB", 81920 * MiB, 312e12, 2039e9, 400, 40.9657 / 8)
    {
        Vendor = "NVIDIA", SpecSource = "NVIDIA A100 datasheet (SXM4 80GB); 81,920 MiB per nvidia-smi",
        PriceSource = "AWS EC2 on-demand, p4de.24xlarge (8 GPUs), us-east-1", PriceDate = new DateOnly(2024, 6, 1),
    };

    /// <summary>NVIDIA H100-SXM5-80GB: 989.4 TFLOP/s, 3.35 TB/s, 700 W; AWS p5.48xlarge $98.32/h ÷ 8.</summary>
    public static Accelerator H100_SXM { get; } = new("H100-SXM", 81559 * MiB, 989.4e12, 3.35e12, 700, 98.32 / 8)
    {
        Vendor = "NVIDIA", SpecSource = "NVIDIA H100 datasheet (SXM5); 81,559 MiB and 700 W power limit per nvidia-smi on an H100 80GB HBM3 (2026-11-24)",
        PriceSource = "AWS EC2 on-demand, p5.48xlarge (8 GPUs), us-east-1, as reported by The Next Platform 2023-07-27", PriceDate = new DateOnly(2023, 7, 27),
    };

    /// <summary>NVIDIA H200-SXM-141GB: 989.4 TFLOP/s, 4.8 TB/s, 700 W; AWS EC2 Capacity Blocks p5e.48xlarge $5.408 per GPU-hour.</summary>
    public static Accelerator H200 { get; } = new("H200", 143771 * MiB, 989.4e12, 4.8e12, 700, 5.408)
    {
        Vendor = "NVIDIA", SpecSource = "NVIDIA H200 datasheet (SXM); 143,771 MiB per nvidia-smi",
        PriceSource = "AWS EC2 Capacity Blocks for ML, p5e.48xlarge effective accelerator hourly rate, US East (Ohio)", PriceDate = new DateOnly(2024, 12, 1),
    };

    /// <summary>AMD Instinct MI300X: 1,307.4 TFLOP/s, 5.3 TB/s, 750 W, 192 GiB; Azure ND MI300X v5 list price $6 per GPU-hour.</summary>
    public static Accelerator MI300X { get; } = new("MI300X", 192L << 30, 1307.4e12, 5.3e12, 750, 6.00)
    {
        Vendor = "AMD", SpecSource = "AMD Instinct MI300X datasheet (dense fp16/bf16)",
        PriceSource = "Azure ND MI300X v5 list price per GPU-hour, as compared in a Cliff Center research note 2026-05-18", PriceDate = new DateOnly(2026, 5, 18),
    };

    /// <summary>Every built-in accelerator.</summary>
    public static IReadOnlyList<Accelerator> All { get; } = [V100_32GB, A100_40GB, A100_80GB, H100_SXM, H200, MI300X];

    /// <summary>Looks up a built-in accelerator by name, ignoring case.</summary>
    /// <exception cref="KeyNotFoundException">No such name; the message lists the built-ins.</exception>
    public static Accelerator Get(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return All.FirstOrDefault(a => string.Equals(a.Name, name.Trim(), StringComparison.OrdinalIgnoreCase))
            ?? throw new KeyNotFoundException($"No built-in accelerator is named '{name}'. {NameSuggestions.Describe(name, All.Select(a => a.Name))} The built-ins are {string.Join(", ", All.Select(a => a.Name))}; create your own with new Accelerator(...).");
    }

    /// <summary>
    /// The built-in accelerator a hardware description names: a built-in's exact name (e.g. <c>H100-SXM</c>, as roofline
    /// estimates record it), or the driver's name of the GPUs this project profiles on (NVML's <c>NVIDIA H100 80GB HBM3</c>
    /// is the SXM5 part, <c>NVIDIA A100 80GB</c> the paper's); null for anything else, including H100 and A100 PCIe cards,
    /// NVL parts and GH200, whose memory or power limits differ from the built-ins'.
    /// </summary>
    /// <param name="hardware">A hardware description, e.g. <see cref="RuntimeModelMetadata.Hardware"/>; null gives null.</param>
    public static Accelerator? FromHardwareName(string? hardware)
    {
        if (string.IsNullOrWhiteSpace(hardware))
        {
            return null;
        }

        var exact = All.FirstOrDefault(a => string.Equals(a.Name, hardware.Trim(), StringComparison.OrdinalIgnoreCase));
        if (exact is not null)
        {
            return exact;
        }

        if (hardware.Contains("H100", StringComparison.Ordinal) && !hardware.Contains("PCIe", StringComparison.OrdinalIgnoreCase) && !hardware.Contains("NVL", StringComparison.Ordinal))
        {
            return H100_SXM;
        }

        // GH200 (Grace Hopper) contains "H200" but is another part, with its own memory and power.
        if (hardware.Contains("H200", StringComparison.Ordinal) && !hardware.Contains("GH200", StringComparison.Ordinal) && !hardware.Contains("NVL", StringComparison.Ordinal))
        {
            return H200;
        }

        // The A100 PCIe cards draw 250–300 W and read memory slower than the SXM4 built-ins.
        if (hardware.Contains("A100", StringComparison.Ordinal) && !hardware.Contains("PCIe", StringComparison.OrdinalIgnoreCase))
        {
            return hardware.Contains("40GB", StringComparison.OrdinalIgnoreCase) ? A100_40GB : A100_80GB;
        }

        return hardware.Contains("MI300X", StringComparison.OrdinalIgnoreCase) ? MI300X : null;
    }

    /// <summary>
    /// The accelerator a profile's idealized cost and energy are priced on, from its metadata:
    /// <see cref="RuntimeModelMetadata.AcceleratorName"/> when set, else the built-in that
    /// <see cref="RuntimeModelMetadata.Hardware"/> names exactly, else (unless the profile is denoised)
    /// <see cref="FromHardwareName"/>; with <see cref="RuntimeModelMetadata.AcceleratorHourlyPriceUsd"/> as its price when
    /// set. Null when the metadata names no known accelerator. A denoised profile times an API whose hardware is unknown,
    /// so its hardware text is not guessed at; name the accelerator in its metadata to price it.
    /// </summary>
    /// <param name="metadata">The profile's provenance.</param>
    /// <exception cref="KeyNotFoundException"><see cref="RuntimeModelMetadata.AcceleratorName"/> names no built-in; the message names the closest.</exception>
    public static Accelerator? ForProfile(RuntimeModelMetadata metadata)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        var accelerator = metadata.AcceleratorName is { Length: > 0 } name
            ? Get(name)
            : All.FirstOrDefault(a => string.Equals(a.Name, metadata.Hardware?.Trim(), StringComparison.OrdinalIgnoreCase))
              ?? (metadata.Metric != RuntimeMetric.Denoised ? FromHardwareName(metadata.Hardware) : null);
        if (accelerator is null || metadata.AcceleratorHourlyPriceUsd is not { } price)
        {
            return accelerator;
        }

        return accelerator with { HourlyPriceUsd = price, PriceSource = "the profile's metadata (accelerator_hourly_price_usd)", PriceDate = null };
    }
}
