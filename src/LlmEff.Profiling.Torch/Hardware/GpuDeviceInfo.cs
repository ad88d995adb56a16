namespace LlmEff.Profiling.Torch;

/// <summary>What NVML reports about one GPU at one moment.</summary>
/// <param name="Index">NVML device index.</param>
/// <param name="Name">Product name, e.g. <c>NVIDIA H100 80GB HBM3</c>.</param>
/// <param name="TotalMemoryBytes">Total device memory in bytes.</param>
/// <param name="FreeMemoryBytes">Unallocated device memory in bytes at the time of the query.</param>
/// <param name="DriverVersion">NVIDIA driver version.</param>
/// <param name="CudaDriverVersion">Highest CUDA version the driver supports, e.g. <c>13.0</c>.</param>
public sealed record GpuDeviceInfo(int Index, string Name, long TotalMemoryBytes, long FreeMemoryBytes, string DriverVersion, string CudaDriverVersion);
