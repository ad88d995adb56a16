namespace LlmEff.Core.Hardware;

/// <summary>
/// Built-in interconnects. Bandwidths are achievable NCCL bus bandwidths, below the links' nominal rates; treat them
/// as starting points and replace them with values measured on your machine (the multi-GPU calibration does).
/// </summary>
public static class Interconnects
{
    /// <summary>
    /// NVLink 3 / NVSwitch (A100 SXM4): 12 links × 25 GB/s per direction = 300 GB/s nominal; all-reduce bus bandwidth
    /// plateaus near 230 GB/s in nccl-tests on 8-GPU A100 servers. Latency about 10 µs per small collective.
    /// </summary>
    public static Interconnect NvLink3 { get; } = new("NVLink3", 10e-6, 230e9, "A100 SXM4 NVLink 3: 300 GB/s per direction nominal (NVIDIA A100 datasheet); nccl-tests all_reduce busbw ~230 GB/s on 8 GPUs (typical published runs, 2021-2023)");

    /// <summary>
    /// NVLink 4 / NVSwitch (H100 and H200 SXM): 18 links × 25 GB/s per direction = 450 GB/s nominal; about 360 GB/s all-reduce
    /// bus bandwidth without NVLink SHARP multicast (kept off on the lent machines). Latency 13 µs: a small
    /// <c>ncclAllReduce</c> between two H100s measured from C# on 2026-11-24 (shared/gpu/README.md).
    /// </summary>
    public static Interconnect NvLink4 { get; } = new("NVLink4", 13e-6, 360e9, "H100/H200 SXM NVLink 4: 450 GB/s per direction nominal (NVIDIA H100 datasheet); ~360 GB/s busbw without NVLS (typical nccl-tests); 13 us small all-reduce measured 2026-11-24");

    /// <summary>PCIe 4.0 x16: 32 GB/s per direction nominal, about 22 GB/s achieved; latency about 20 µs.</summary>
    public static Interconnect PcieGen4 { get; } = new("PCIe4-x16", 20e-6, 22e9, "PCIe 4.0 x16: 31.5 GB/s per direction nominal (PCI-SIG); ~70% achieved by NCCL through the host bridge");

    /// <summary>PCIe 5.0 x16: 64 GB/s per direction nominal, about 45 GB/s achieved; latency about 15 µs.</summary>
    public static Interconnect PcieGen5 { get; } = new("PCIe5-x16", 15e-6, 45e9, "PCIe 5.0 x16: 63 GB/s per direction nominal (PCI-SIG); ~70% achieved");

    /// <summary>InfiniBand HDR (200 Gb/s = 25 GB/s per port): about 24 GB/s, latency about 20 µs including software; for stage-to-stage transfers between servers.</summary>
    public static Interconnect InfiniBandHdr { get; } = new("InfiniBand-HDR", 20e-6, 24e9, "InfiniBand HDR 200 Gb/s per port (NVIDIA ConnectX-6 datasheet); DGX A100 uses one HDR port per GPU");

    /// <summary>InfiniBand NDR (400 Gb/s = 50 GB/s per port): about 48 GB/s, latency about 20 µs including software.</summary>
    public static Interconnect InfiniBandNdr { get; } = new("InfiniBand-NDR", 20e-6, 48e9, "InfiniBand NDR 400 Gb/s per port (NVIDIA ConnectX-7 datasheet); DGX H100 uses one NDR port per GPU");

    /// <summary>Every built-in interconnect.</summary>
    public static IReadOnlyList<Interconnect> All { get; } = [NvLink3, NvLink4, PcieGen4, PcieGen5, InfiniBandHdr, InfiniBandNdr];

    /// <summary>The intra-server link that usually comes with an accelerator: NVLink 3 for A100, NVLink 4 for H100/H200, PCIe 4 otherwise.</summary>
    public static Interconnect ForAccelerator(Accelerator accelerator)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        return accelerator.Name.StartsWith("A100", StringComparison.OrdinalIgnoreCase) ? NvLink3
            : accelerator.Name.StartsWith("H100", StringComparison.OrdinalIgnoreCase) || accelerator.Name.StartsWith("H200", StringComparison.OrdinalIgnoreCase) ? NvLink4
            : PcieGen4;
    }

    /// <summary>Looks up a built-in by name (case-insensitive).</summary>
    /// <exception cref="KeyNotFoundException">Unknown name; the message lists the built-ins.</exception>
    public static Interconnect Get(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return All.FirstOrDefault(i => string.Equals(i.Name, name, StringComparison.OrdinalIgnoreCase))
            ?? throw new KeyNotFoundException($"No interconnect named '{name}'; built-ins are {string.Join(", ", All.Select(i => i.Name))}, or create an Interconnect with your own measurements.");
    }
}
