using TorchSharp;
using static TorchSharp.torch;

namespace LlmEff.Profiling.Torch.Gpu;

/// <summary>
/// On the GPU: the NVRTC-compiled decode kernels against the libtorch ops they replace, on random data, in bf16 and fp32
/// (fraction of bit-identical outputs and the largest difference).
/// </summary>
internal static class KernelCheck
{
    public static List<Dictionary<string, object?>> Run(Device device)
    {
        var results = new List<Dictionary<string, object?>>();
        foreach (var dtype in new[] { ScalarType.BFloat16, ScalarType.Float32 })
        {
            var r = new Dictionary<string, object?> { ["dtype"] = dtype.ToString() };
            try
            {
                using var scope = NewDisposeScope();
                using var inference = inference_mode();
                var (kernels, reason) = DecodeKernels.For(dtype);
                if (kernels is null)
                {
                    r["error"] = reason;
                    results.Add(r);
                    continue;
                }

                // The decoder's one-row norms as the eager script writes them.
                using var refs = jit.compile("""
                    def ln_ref(x: Tensor, w: Tensor, b: Tensor) -> Tensor:
                        return torch.group_norm(x.view(1, x.size(1), 1), 1, w, b, 1e-05).view(1, x.size(1))
                    def rms_ref(x: Tensor, w: Tensor) -> Tensor:
                        return torch.rms_norm(x, [x.size(1)], w, 1e-05)
                    """ + "\n");
                var g = new Generator(1);
                foreach (var (h, ln) in new[] { (4096, true), (4096, false), (12288, true), (20480, true) })
                {
                    var x = randn([1, h], dtype, generator: g).to(device);
                    var add = randn([h], dtype, generator: g).to(device);
                    var w = (randn([h], dtype, generator: g).to(device) * 0.1) + 1;
                    var b = randn([h], dtype, generator: g).to(device) * 0.1;
                    var want = x.clone();
                    want.add_(add);
                    var wantY = ln ? (Tensor)refs.invoke("ln_ref", want, w, b) : (Tensor)refs.invoke("rms_ref", want, w);
                    var got = x.clone();
                    var y = empty_like(got);
                    kernels.Norm(got, add, w, ln ? b : null, y, 1e-5, ln, IntPtr.Zero);
                    cuda.synchronize();
                    r[$"norm_{(ln ? "ln" : "rms")}_{h}_x_identical"] = (want == got).to(ScalarType.Float32).mean().item<float>();
                    r[$"norm_{(ln ? "ln" : "rms")}_{h}_y_identical"] = (wantY == y).to(ScalarType.Float32).mean().item<float>();
                    r[$"norm_{(ln ? "ln" : "rms")}_{h}_y_max_abs_diff"] = (wantY.to(ScalarType.Float32) - y.to(ScalarType.Float32)).abs().max().item<float>();
                }

                const int H = 32, KV = 8, HD = 128, C = 64, Pos = 37;
                var qkv = randn([H + (2 * KV), HD], dtype, generator: g).to(device);
                var cos = randn([C, HD], dtype, generator: g).to(device);
                var sin = randn([C, HD], dtype, generator: g).to(device);
                var cache = zeros([C, H + (2 * KV), HD], dtype, device);
                var q = empty([H, HD], dtype, device);
                var pos = tensor(new long[] { Pos }, ScalarType.Int64, device);
                kernels.RotaryCache(qkv, q, cache, pos, cos, sin, H, KV, HD, IntPtr.Zero);
                cuda.synchronize();
                var refRow = qkv.clone();
                var qk = refRow.narrow(0, 0, H + KV);
                var rolled = qk.roll(HD / 2, -1);
                qk.mul_(cos[Pos]).addcmul_(rolled, sin[Pos], 1);
                r["rotary_q_identical"] = (refRow.narrow(0, 0, H) == q).to(ScalarType.Float32).mean().item<float>();
                r["rotary_kv_identical"] = (refRow.narrow(0, H, 2 * KV) == cache[Pos].narrow(0, H, 2 * KV)).to(ScalarType.Float32).mean().item<float>();
                r["cache_other_rows_untouched"] = cache.narrow(0, 0, Pos).abs().sum().to(ScalarType.Float32).item<float>() == 0;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                r["error"] = ex.ToString();
            }

            results.Add(r);
        }

        return results;
    }
}
