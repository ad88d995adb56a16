using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LlmEff.Profiling.Torch;

/// <summary>Creates random parameters directly on the target device, so a 70B model never exists as a CPU copy.</summary>
internal sealed class WeightFactory : WeightSource
{
    private readonly Generator? _generator;
    private readonly bool _fill;

    public WeightFactory(Device device, ScalarType dtype, DecoderOptions options)
    {
        Device = device;
        DType = dtype;
        StandardDeviation = options.InitStandardDeviation;
        // The meta device has no data to fill. On the CPU a local generator keeps the weights seeded and independent of
        // global RNG state; TorchSharp's Generator is CPU-only, so CUDA weights use the seeded default CUDA generator.
        if (device.type == DeviceType.CUDA)
        {
            torch.cuda.manual_seed_all(options.Seed);
        }
        else if (device.type != DeviceType.META)
        {
            _generator = new Generator((ulong)options.Seed, device);
        }

        _fill = device.type != DeviceType.META;
    }

    public override Device Device { get; }

    public override ScalarType DType { get; }

    public double StandardDeviation { get; }

    /// <summary>A matrix or bias in the model precision, N(0, std²).</summary>
    public override Parameter Random(string name, params long[] shape)
    {
        using var noGrad = no_grad();
        var t = empty(shape, DType, Device);
        if (_fill)
        {
            t.normal_(0, StandardDeviation, _generator);
        }

        return new Parameter(t, requires_grad: false);
    }

    /// <summary>
    /// A norm parameter, ones for weights and zeros for biases, in the model precision so the fused norm kernels take it
    /// directly; those kernels compute the statistics in fp32 (and the reference casts to fp32).
    /// </summary>
    public override Parameter Norm(string name, long size, double value)
    {
        using var noGrad = no_grad();
        return new Parameter(full(new[] { size }, value, DType, Device), requires_grad: false);
    }
}
