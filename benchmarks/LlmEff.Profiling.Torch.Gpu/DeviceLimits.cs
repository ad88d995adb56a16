using System.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;

namespace LlmEff.Profiling.Torch.Gpu;

/// <summary>The device's own limits, measured in the same run as the profiles: copy bandwidth and bf16 matmul rate.</summary>
internal static class DeviceLimits
{
    /// <summary>Device-to-device copy rate in bytes/s, counting the read and the write: 2 × size / time.</summary>
    public static double CopyBandwidthBytesPerSecond(Device device, long bytes, int repeats)
    {
        using var scope = NewDisposeScope();
        var n = bytes / 2;
        var src = empty([n], ScalarType.BFloat16, device).fill_(1);
        var dst = empty([n], ScalarType.BFloat16, device);
        for (var i = 0; i < 3; i++)
        {
            dst.copy_(src);
        }

        Sync(device);
        var sw = Stopwatch.StartNew();
        for (var i = 0; i < repeats; i++)
        {
            dst.copy_(src);
        }

        Sync(device);
        return 2.0 * n * 2 * repeats / sw.Elapsed.TotalSeconds;
    }

    /// <summary>Dense bf16 matmul rate in FLOP/s for an (m × k) · (k × n) product: 2mkn / time.</summary>
    public static double MatmulFlopsPerSecond(Device device, long m, long k, long n, int repeats)
    {
        using var scope = NewDisposeScope();
        var a = randn([m, k], ScalarType.BFloat16, device);
        var b = randn([k, n], ScalarType.BFloat16, device);
        for (var i = 0; i < 3; i++)
        {
            torch.mm(a, b).Dispose();
        }

        Sync(device);
        var sw = Stopwatch.StartNew();
        for (var i = 0; i < repeats; i++)
        {
            torch.mm(a, b).Dispose();
        }

        Sync(device);
        return 2.0 * m * k * n * repeats / sw.Elapsed.TotalSeconds;
    }

    public static void Sync(Device device)
    {
        if (device.type == DeviceType.CUDA)
        {
            torch.cuda.synchronize(device);
        }
    }
}
